import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import Prometheus
import SteadfastApplication
import SteadfastCore
import SteadfastHost
import SteadfastStore

/// The routes: each parses, calls `WorkflowService`, and renders.
///
/// Arguments are computed into constants before each `WorkflowService` call: an argument that
/// is itself a `try` expression, passed to a typed-throws async function, crashes the Swift 6.3
/// optimizer (signal 11 "while splitting coroutine") in release builds.
public struct Routes: Sendable {
    let service: WorkflowService
    let session: HostSession
    let reader: RequestReader
    let metrics: PrometheusCollectorRegistry

    /// A route: its method, its path template, and the query and header parameters it reads.
    public struct Route: Sendable, Hashable {
        public var method: String
        public var path: String
        public var query: [String] = []
        public var headers: [String] = []
    }

    /// Every route with its parameters, as `Schemas/openapi.json` names them (a test checks that
    /// they agree); only these can be registered, and a request with a query parameter its route
    /// does not read is refused (400), so a misspelt filter is never silently ignored.
    public static let table: [Route] =
        [
            Route(method: "GET", path: "/healthz"), Route(method: "GET", path: "/readyz"),
            Route(method: "GET", path: "/metrics"), Route(method: "GET", path: "/v1/definitions"),
            Route(
                method: "GET", path: "/v1/instances",
                query: [
                    "status", "definition", "key", "property", "updatedAfter", "updatedBefore", "limit", "continuation",
                ]),
            Route(method: "POST", path: "/v1/instances", headers: ["Idempotency-Key"]),
            Route(method: "GET", path: "/v1/instances/{id}", query: ["revision"]),
            Route(method: "DELETE", path: "/v1/instances/{id}"),
            Route(method: "GET", path: "/v1/instances/{id}/inbox"),
            Route(method: "GET", path: "/v1/instances/{id}/history", query: ["after", "limit"]),
            Route(method: "POST", path: "/v1/instances/{id}/messages", query: waitParameters),
            Route(method: "POST", path: "/v1/messages", query: waitParameters),
            Route(method: "POST", path: "/v1/instances/{id}/rewind"),
            Route(method: "POST", path: "/v1/instances/{id}/recover"),
            Route(method: "POST", path: "/v1/instances/{id}/fork"),
            Route(method: "POST", path: "/v1/purge"),
        ] + commands.map { Route(method: "POST", path: "/v1/instances/{id}/\($0)", query: waitParameters) }

    static let waitParameters = ["wait", "timeout"]

    static let commands = ["suspend", "unsuspend", "terminate", "cancel", "abandon"]

    func register(on router: Router<BasicRequestContext>) {
        func add(
            _ method: HTTPRequest.Method, _ path: String,
            _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
        ) {
            guard let route = Self.table.first(where: { $0.method == method.rawValue && $0.path == path }) else {
                preconditionFailure("\(method) \(path) is not in Routes.table, so not in Schemas/openapi.json")
            }
            router.on(RouterPath(path.replacingOccurrences(of: "{id}", with: ":id")), method: method) {
                request, context in
                let began = ContinuousClock.now
                var status = 500
                defer { Self.count(method, path, status: status, after: ContinuousClock.now - began) }
                do {
                    try Self.checkQuery(request, route)
                    let response = try await handler(request, context)
                    status = response.status.code
                    return response
                } catch let error as APIError {
                    status = error.error.httpStatus
                    throw error
                } catch let error as HTTPError {
                    status = error.status.code  // e.g. a body over the limit: 413
                    throw error
                } catch {
                    status = ApplicationError(error).httpStatus
                    throw error
                }
            }
        }
        add(.get, "/healthz") { _, _ in JSONResponse.make(#"{"status": "live"}"#) }
        add(.get, "/readyz") { _, _ in try await ready() }
        add(.get, "/metrics") { _, _ in
            await recordInboxBacklog()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
        add(.get, "/v1/definitions") { _, _ in try JSONResponse.encode(definitions()) }

        add(.post, "/v1/instances") { request, _ in
            try await start(try await reader.object(request), idempotencyKey: request.headers[Self.idempotencyKey])
        }
        add(.get, "/v1/instances") { request, _ in try await list(request) }
        add(.get, "/v1/instances/{id}") { request, context in
            let id = try await id(context)
            let revision = try RequestReader.integer(request, "revision", in: 1...Int.max)
            let view =
                if let revision { try await service.show(id, revision: Int64(revision)) } else {
                    try await service.show(id)
                }
            return JSONResponse.make(view.jsonValue.jsonText)
        }
        add(.delete, "/v1/instances/{id}") { _, context in
            let id = try await id(context)
            try await service.delete(id)
            return JSONResponse.make(#"{"deleted": "\#(id.lowercasedText)"}"#)
        }
        add(.get, "/v1/instances/{id}/inbox") { _, context in
            let id = try await id(context)
            return try JSONResponse.encode(try await service.inbox(id))
        }
        add(.get, "/v1/instances/{id}/history") { request, context in try await history(request, context) }
        add(.post, "/v1/instances/{id}/messages") { request, context in
            let fields = try await reader.object(request)
            let instance = try await id(context)
            let message = try Message(fields, request)
            let outcome = try await service.resume(
                instance, operation: message.operation, body: message.body, clientID: message.clientID,
                through: session, wait: message.wait, timeout: message.timeout)
            return try JSONResponse.encode(outcome)
        }
        add(.post, "/v1/messages") { request, _ in
            let message = try Message(try await reader.object(request), request)
            let outcome = try await service.send(
                message.operation, body: message.body, clientID: message.clientID, through: session,
                wait: message.wait, timeout: message.timeout)
            return try JSONResponse.encode(outcome)
        }
        for name in Self.commands {
            add(.post, "/v1/instances/{id}/\(name)") { request, context in
                try await control(name, request, context)
            }
        }
        add(.post, "/v1/instances/{id}/rewind") { request, context in
            let fields = try await reader.object(request)
            let id = try await id(context)
            let to = try RequestReader.positiveInteger(fields, "to", required: true) ?? 1
            let version = try RequestReader.string(fields, "version")
            return try JSONResponse.encode(
                try await service.rewind(id, to: to, onto: version, catalog: session.host.catalog))
        }
        add(.post, "/v1/instances/{id}/recover") { request, context in
            let fields = try await reader.object(request)
            let id = try await id(context)
            let version = try RequestReader.string(fields, "version")
            return try JSONResponse.encode(try await service.recover(id, onto: version, catalog: session.host.catalog))
        }
        add(.post, "/v1/instances/{id}/fork") { request, context in
            let fields = try await reader.object(request)
            let id = try await id(context)
            let from = try RequestReader.positiveInteger(fields, "from", required: true) ?? 1
            let version = try RequestReader.string(fields, "version")
            let variables = try RequestReader.object(fields, "variables")
            let fork = try await service.fork(
                id, from: from, onto: version, setting: variables, catalog: session.host.catalog)
            return try JSONResponse.encode(fork, status: .created)
        }
        add(.post, "/v1/purge") { request, _ in
            try await purge(try await reader.object(request))
        }
    }

    /// Requests by method, route and status, and their durations by route.
    private static func count(_ method: HTTPRequest.Method, _ route: String, status: Int, after duration: Duration) {
        Counter(
            label: "steadfast_http_requests_total",
            dimensions: [("method", method.rawValue), ("route", route), ("status", String(status))]
        ).increment()
        Metrics.Timer(label: "steadfast_http_request_duration_seconds", dimensions: [("route", route)])
            .record(duration: duration)
    }

    /// The store's waiting inbox entries, read at each scrape: how many, and how long the
    /// oldest has waited (0 when none). A store that cannot be read leaves the last values.
    private func recordInboxBacklog() async {
        guard let backlog = try? await service.store.inboxBacklog() else { return }
        Gauge(label: "steadfast_inbox_pending").record(backlog.pending)
        let age = backlog.oldestEnqueuedAt.map { max(0, Date().timeIntervalSince($0)) } ?? 0
        Gauge(label: "steadfast_inbox_oldest_age_seconds").record(age)
    }

    /// Refuses a query parameter the route does not read.
    private static func checkQuery(_ request: Request, _ route: Route) throws(APIError) {
        for (name, _) in request.uri.queryParameters where !route.query.contains(String(name)) {
            let known = route.query.isEmpty ? "none" : route.query.joined(separator: ", ")
            throw APIError(
                .invalidInput,
                "\(route.method) \(route.path) has no query parameter '\(name)' (it takes: \(known)); see "
                    + "Schemas/openapi.json")
        }
    }

    // MARK: Instances

    private func id(_ context: BasicRequestContext) async throws -> UUID {
        let text = try context.parameters.require("id")
        return try await service.resolveID(text)
    }

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!

    /// Starts an instance; a retry with the same `Idempotency-Key` gets the same answer about
    /// the instance the first request started, marked `Idempotent-Replayed: true`.
    private func start(_ fields: [String: JSONValue], idempotencyKey: String?) async throws -> Response {
        let name = try RequestReader.string(fields, "definition", required: true) ?? ""
        let version = try RequestReader.string(fields, "version")
        if let version, session.host.catalog.definition(name: name, version: version) == nil {
            throw APIError(
                .definitionNotFound,
                "version '\(version)' of definition '\(name)' is not hosted here; see /v1/definitions")
        }
        let input = try RequestReader.object(fields, "input")
        let (id, replayed) = try await service.start(
            name, version: version, input: input, idempotencyKey: idempotencyKey, through: session)
        var response =
            if let view = try await service.view(of: id, session: session) {
                try JSONResponse.encode(view, status: .created)
            } else {
                JSONResponse.make(#"{"id": "\#(id.lowercasedText)", "deleted": true}"#, status: .created)
            }
        if replayed { response.headers[Self.idempotentReplayed] = "true" }
        return response
    }

    /// A page of an instance's history; `after` is the `continuation` of the page before.
    private func history(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try await id(context)
        let limit = try RequestReader.integer(request, "limit", in: 1...1000) ?? 1000
        var after: HistoryPosition?
        if let text = request.uri.queryParameters["after"] {
            let parts = text.split(separator: ".")
            guard parts.count == 2, let version = Int64(parts[0]), let ordinal = Int(parts[1]) else {
                throw APIError(
                    .invalidInput, "after must be the continuation of an earlier page, such as '4.2', not '\(text)'")
            }
            after = HistoryPosition(version: version, ordinal: ordinal)
        }
        let records = try await service.history(id, after: after, limit: limit)
        let next = records.count == limit ? records.last.map { "\($0.version).\($0.ordinal)" } : nil
        return try JSONResponse.encode(HistoryPage(records: records, continuation: next))
    }

    /// What `GET /v1/instances/{id}/history` answers.
    private struct HistoryPage: Encodable {
        var records: [HistoryEntryView]
        var continuation: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(records, forKey: .records)
            try container.encode(continuation, forKey: .continuation)  // null on the last page
        }

        private enum CodingKeys: String, CodingKey { case records, continuation }
    }

    private func list(_ request: Request) async throws -> Response {
        let parameters = request.uri.queryParameters
        var query = InstanceQuery(limit: try RequestReader.integer(request, "limit", in: 1...1000) ?? 100)
        if let text = parameters["status"] {
            var statuses = Set<InstanceStatus>()
            for name in text.split(separator: ",") {
                guard let status = InstanceStatus(rawValue: String(name)) else {
                    let known = InstanceStatus.allCases.map(\.rawValue).joined(separator: ", ")
                    throw APIError(.invalidInput, "status must be one of \(known), not '\(name)'")
                }
                statuses.insert(status)
            }
            query.statuses = statuses
        }
        query.definitionName = parameters["definition"].map(String.init)
        if let key = parameters["key"] {
            guard let equals = key.firstIndex(of: "="), equals != key.startIndex else {
                throw APIError(.invalidInput, "key must be NAME=VALUE, e.g. orderId=42, not '\(key)'")
            }
            let raw = String(key[key.index(after: equals)...])
            query.key = InstanceKey(
                name: String(key[..<equals]), value: (try? JSONValue.parse(raw, what: "key")) ?? .string(raw))
        }
        if let property = parameters["property"] {
            guard let equals = property.firstIndex(of: "="), equals != property.startIndex else {
                throw APIError(.invalidInput, "property must be NAME=VALUE, not '\(property)'")
            }
            query.promotedProperty = PromotedPropertyFilter(
                name: String(property[..<equals]), value: String(property[property.index(after: equals)...]))
        }
        query.updatedAfter = try RequestReader.time(request, "updatedAfter")
        query.updatedBefore = try RequestReader.time(request, "updatedBefore")
        let continuation = parameters["continuation"].map(String.init)
        let page = try await service.list(query, continuation: continuation)
        return try JSONResponse.encode(page)
    }

    private func purge(_ fields: [String: JSONValue]) async throws -> Response {
        var filter = PurgeFilter()
        if case .array(let names)? = fields["statuses"] {
            filter.statuses = Set(
                try names.map { name in
                    guard case .string(let text) = name, let status = InstanceStatus(rawValue: text), status.isFinal
                    else {
                        throw APIError(
                            .invalidInput, "statuses must name finished statuses, not \(name.jsonText.prefix(40))")
                    }
                    return status
                })
        }
        if let before = try RequestReader.string(fields, "updatedBefore") {
            guard let instant = Instant(iso8601: before) else {
                throw APIError(.invalidInput, "updatedBefore must be an ISO-8601 time, not '\(before)'")
            }
            filter.updatedBefore = Date(timeIntervalSince1970: instant.secondsSinceEpoch)
        }
        filter.definitionName = try RequestReader.string(fields, "definition")
        let dryRun = fields["dryRun"] == .bool(true)
        return try JSONResponse.encode(try await service.purge(filter, dryRun: dryRun))
    }

    // MARK: Messages and commands

    /// A message's body fields and the wait its query asks for.
    private struct Message {
        var operation: String
        var body: JSONValue
        var clientID: String?
        var wait: WaitCondition
        var timeout: Duration

        init(_ fields: [String: JSONValue], _ request: Request) throws {
            operation = try RequestReader.string(fields, "operation", required: true) ?? ""
            body = fields["body"] ?? .null
            clientID = try RequestReader.string(fields, "clientId")
            wait = try RequestReader.wait(request)
            timeout = try RequestReader.timeout(request)
        }
    }

    private func control(_ name: String, _ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let fields = try await reader.object(request)
        let instance = try await id(context)
        let entry = try command(name, fields)
        let clientID = try RequestReader.string(fields, "clientId")
        let wait = try RequestReader.wait(request)
        let timeout = try RequestReader.timeout(request)
        let outcome = try await service.control(instance, entry, clientID: clientID, wait: wait, timeout: timeout)
        return try JSONResponse.encode(outcome)
    }

    private func command(_ name: String, _ fields: [String: JSONValue]) throws -> InboxEntry.Command {
        let reason = try RequestReader.string(fields, "reason") ?? "by the HTTP API"
        switch name {
        case "suspend": return .suspend
        case "unsuspend": return .unsuspend
        case "abandon": return .abandon
        case "terminate": return .terminate(reason: reason)
        case "cancel": return .cancel(reason: reason)
        default:
            throw APIError(
                .noRoute,
                "no command '\(name)': POST /v1/instances/{id}/ suspend, unsuspend, terminate, cancel, abandon or messages"
            )
        }
    }

    // MARK: The host

    private struct DefinitionView: Encodable {
        var name: String
        var version: String
        var fingerprint: String
        /// Operations its Receives take, with the variable each correlates on (null: by id).
        var receives: [String: String?]
        var createsInstanceOn: [String]
    }

    private func definitions() -> [DefinitionView] {
        session.host.catalog.definitions.map { definition in
            DefinitionView(
                name: definition.name, version: definition.version, fingerprint: definition.identity.fingerprint,
                receives: definition.receiveOperations, createsInstanceOn: definition.creatingOperations)
        }
    }

    private func ready() async throws -> Response {
        do {
            _ = try await service.completionAction()
        } catch {
            throw APIError(.storeUnavailable, "the store is not reachable: \(error.message)")
        }
        guard let expiry = session.host.leaseExpiresAt, expiry > Date() else {
            throw APIError(.hostStopped, "the host's lock is not current (not started yet, stopping, or not renewed)")
        }
        return JSONResponse.make(#"{"status": "ready"}"#)
    }
}
