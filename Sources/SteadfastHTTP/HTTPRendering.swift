import Foundation
import Hummingbird
import SteadfastApplication
import SteadfastCore

/// An application error as an HTTP response: its status, and the JSON every front end shows
/// (`{"error": {"code", "message"}}`).
struct APIError: HTTPResponseError {
    var error: ApplicationError

    init(_ error: ApplicationError) { self.error = error }

    init(_ code: ApplicationError.Code, _ message: String) { self.error = ApplicationError(code, message) }

    var status: HTTPResponse.Status { HTTPResponse.Status(code: error.httpStatus) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(error.jsonObject.jsonText, status: status)
    }
}

/// JSON bodies: what the API answers with, written once.
enum JSONResponse {
    static func make(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    static func encode(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return make(String(decoding: try encoder.encode(value), as: UTF8.self), status: status)
        } catch {
            throw APIError(.internalError, "the response could not be written as JSON: \(error)")
        }
    }
}

/// Reading a request: its body (within the server's limit) as JSON, and its query parameters,
/// each wrong value a 4xx naming it.
struct RequestReader {
    var maxBodySize: Int

    /// The body as a JSON object (an empty body is an empty object).
    func object(_ request: Request) async throws -> [String: JSONValue] {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBodySize)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(
                .payloadTooLarge,
                "the request body is over the server's limit of \(maxBodySize) bytes; nothing was stored")
        }
        guard buffer.readableBytes > 0 else { return [:] }
        let value: JSONValue
        do {
            value = try JSONValue.parse(Data(buffer.readableBytesView), what: "the request body")
        } catch {
            throw APIError(.invalidInput, "\(error.message); nothing was stored")
        }
        guard case .object(let fields) = value else {
            throw APIError(.invalidInput, "the request body must be a JSON object, not \(value.jsonText.prefix(40))")
        }
        return fields
    }

    /// A string field of a body object (nil when absent).
    static func string(_ fields: [String: JSONValue], _ name: String, required: Bool = false) throws -> String? {
        switch fields[name] {
        case nil, .null?:
            if required { throw APIError(.invalidInput, "the request body needs a string field '\(name)'") }
            return nil
        case .string(let text)?: return text
        case let other?:
            throw APIError(.invalidInput, "the field '\(name)' must be a string, not \(other.jsonText.prefix(40))")
        }
    }

    /// A whole-number field of a body object, at least 1 (nil when absent).
    static func positiveInteger(_ fields: [String: JSONValue], _ name: String, required: Bool = false) throws -> Int64?
    {
        switch fields[name] {
        case nil, .null?:
            if required { throw APIError(.invalidInput, "the request body needs a whole-number field '\(name)'") }
            return nil
        case .number(let value)? where value >= 1 && value <= 9e15 && value.rounded() == value: return Int64(value)
        case let other?:
            throw APIError(
                .invalidInput,
                "the field '\(name)' must be a whole number of at least 1, not \(other.jsonText.prefix(40))")
        }
    }

    /// An object field of a body object (empty when absent).
    static func object(_ fields: [String: JSONValue], _ name: String) throws -> [String: JSONValue] {
        switch fields[name] {
        case nil, .null?: return [:]
        case .object(let object)?: return object
        case let other?:
            throw APIError(.invalidInput, "the field '\(name)' must be a JSON object, not \(other.jsonText.prefix(40))")
        }
    }

    /// `?wait=accepted|applied|idle|completed` (default `applied`).
    static func wait(_ request: Request) throws -> WaitCondition {
        guard let text = request.uri.queryParameters["wait"] else { return .applied }
        guard let condition = WaitCondition(rawValue: String(text)) else {
            let known = WaitCondition.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError(.invalidInput, "wait must be one of \(known), not '\(text)'")
        }
        return condition
    }

    /// `?timeout=SECONDS` (default 30, at most an hour).
    static func timeout(_ request: Request) throws -> Duration {
        guard let text = request.uri.queryParameters["timeout"] else { return .seconds(30) }
        guard let seconds = Double(String(text)), seconds.isFinite, seconds >= 0, seconds <= 3600 else {
            throw APIError(.invalidInput, "timeout must be a number of seconds from 0 to 3600, not '\(text)'")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// An integer query parameter within `range`.
    static func integer(_ request: Request, _ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = request.uri.queryParameters[Substring(name)] else { return nil }
        guard let value = Int(String(text)), range.contains(value) else {
            throw APIError(
                .invalidInput,
                "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return value
    }

    /// An ISO-8601 timestamp query parameter.
    static func time(_ request: Request, _ name: String) throws -> Date? {
        guard let text = request.uri.queryParameters[Substring(name)] else { return nil }
        guard let instant = Instant(iso8601: String(text)) else {
            throw APIError(
                .invalidInput, "\(name) must be an ISO-8601 time such as 2026-11-24T08:00:00Z, not '\(text)'")
        }
        return Date(timeIntervalSince1970: instant.secondsSinceEpoch)
    }
}
