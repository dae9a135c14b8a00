import Foundation
import SteadfastCore
import SteadfastHTTP
import SteadfastStore
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The HTTP API of real `wf serve --http` processes, driven over loopback as a client service
/// would: the order-approval flows, commands, purge, wrong input and credentials, and two hosts
/// on one store.
@Suite(.serialized) struct HTTPAPITests {
    /// The order-approval sample, its 72-hour timeout shortened to `timeout`.
    static func orderApproval(timeout: String = "PT72H") throws -> String {
        let sample = repository("Samples/order-approval.json")
        return try String(contentsOf: sample, encoding: .utf8).replacingOccurrences(of: "PT72H", with: timeout)
    }

    /// Waits for a Receive after a Delay, so a message can come before the Receive is open.
    static let latecomer = """
        { "name": "latecomer", "version": "1", "variables": { "got": null },
          "body": { "sequence": [
            { "delay": { "duration": "PT1S" } },
            { "receive": { "operation": "ping", "assignTo": "got" } },
            { "writeLine": { "text": "'got ' + got.n" } } ] } }
        """

    /// A `wf serve --http 127.0.0.1:0` process, and its base URL once it listens.
    final class HTTPHost: Sendable {
        let process: Process
        let stderr: URL
        let base: String
        /// Every call made through ``call(_:_:_:token:headers:)``, for ``expectConformance()``.
        let exchanges = Mutex<[JSONValue]>([])

        init(
            _ fixture: StoreFixture, hostID: String, definitions: [String: String], token: String? = nil,
            arguments: [String] = []
        ) async throws {
            let binary = try #require(WFBinary.url, "the wf binary was not found next to the test bundle")
            let folder = fixture.folder.appendingPathComponent("definitions-\(hostID)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, json) in definitions {
                try Data(json.utf8).write(to: folder.appendingPathComponent("\(name).json"))
            }
            stderr = fixture.folder.appendingPathComponent("\(hostID).err")
            _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
            process = Process()
            process.executableURL = binary
            process.arguments =
                [
                    "serve", "--definitions", folder.path, "--store", fixture.url, "--host-id", hostID,
                    "--detection-period", "0.2", "--lock-renewal", "1", "--http", "127.0.0.1:0",
                ] + (token.map { ["--auth-token", $0] } ?? []) + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: stderr)
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let deadline = ContinuousClock.now + .seconds(30)
            var found: String?
            while found == nil, ContinuousClock.now < deadline, process.isRunning {
                let log = String(decoding: (try? Data(contentsOf: stderr)) ?? Data(), as: UTF8.self)
                found =
                    log.split(separator: "\n").compactMap { line in
                        line.range(of: "HTTP API on ").map {
                            String(line[$0.upperBound...].prefix { $0 != "\"" && !$0.isWhitespace })
                        }
                    }.first
                if found == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            guard let found else {
                kill(process.processIdentifier, SIGKILL)
                let log = String(decoding: (try? Data(contentsOf: stderr)) ?? Data(), as: UTF8.self)
                throw HTTPTestError("wf serve --http did not start listening: \(log)")
            }
            base = found
        }

        func stop(signal: Int32 = SIGTERM) async -> Int32 {
            kill(process.processIdentifier, signal)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
            return process.terminationStatus
        }

        /// Calls the API; the status, the JSON body and the response's headers.
        func call(
            _ method: String, _ path: String, _ body: String? = nil, token: String? = nil,
            headers: [String: String] = [:]
        ) async throws -> (status: Int, json: JSONValue, headers: [String: String]) {
            let answer = try await Self.call(
                method, base + path, body.map { Data($0.utf8) }, token: token, headers: headers)
            let url = try #require(URLComponents(string: base + path))
            var query: [String: JSONValue] = [:]
            for item in url.queryItems ?? [] { query[item.name] = .string(item.value ?? "") }
            let exchange: JSONValue = .object([
                "method": .string(method), "path": .string(url.path), "query": .object(query),
                "headers": .object(headers.mapValues(JSONValue.string)),
                "requestBody": body.map { (try? JSONValue.parse($0, what: "")) ?? .string($0) } ?? .null,
                "status": .number(Double(answer.status)), "contentType": .string(answer.headers["content-type"] ?? ""),
                "responseHeaders": .object(answer.headers.mapValues(JSONValue.string)), "responseBody": answer.json,
            ])
            exchanges.withLock { $0.append(exchange) }
            return answer
        }

        /// `GET /v1/instances/{id}` until the instance has completed (20 s at most); the last answer.
        func completed(_ id: String) async throws -> (status: Int, json: JSONValue, headers: [String: String]) {
            let deadline = ContinuousClock.now + .seconds(20)
            var shown = try await call("GET", "/v1/instances/\(id)")
            while shown.json["status"] != .string("completed"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                shown = try await call("GET", "/v1/instances/\(id)")
            }
            return shown
        }

        /// Checks every call made so far against `Schemas/openapi.json` (`scripts/openapi-conformance`):
        /// each route, parameter, status, response body and header is as the document says.
        func expectConformance(sourceLocation: SourceLocation = #_sourceLocation) throws {
            let file = stderr.deletingPathExtension().appendingPathExtension("exchanges.json")
            try Data(JSONValue.array(exchanges.withLock { $0 }).jsonText.utf8).write(to: file)
            let (status, text) = try HTTPAPITests.python(
                HTTPAPITests.repository("scripts/openapi-conformance").path, HTTPAPITests.openAPIDocument.path,
                file.path)
            #expect(status == 0 && text.hasPrefix("conforms"), "\(text)", sourceLocation: sourceLocation)
        }

        static func call(
            _ method: String, _ url: String, _ body: Data?, token: String?, headers: [String: String] = [:]
        ) async throws -> (status: Int, json: JSONValue, headers: [String: String]) {
            var request = URLRequest(url: try #require(URL(string: url)))
            request.httpMethod = method
            request.httpBody = body
            request.timeoutInterval = 60
            if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = try #require(response as? HTTPURLResponse)
            var fields: [String: String] = [:]
            for case (let name as String, let value as String) in http.allHeaderFields {
                fields[name.lowercased()] = value
            }
            let json =
                if data.isEmpty {
                    JSONValue.null
                } else if fields["content-type"]?.hasPrefix("application/json") ?? false {
                    try JSONValue.parse(data, what: "the response to \(url)")
                } else {
                    JSONValue.string(String(decoding: data, as: UTF8.self))
                }
            return (http.statusCode, json, fields)
        }
    }

    struct HTTPTestError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// `Schemas/openapi.json`'s routes, as "METHOD path".
    static func documentedRoutes() throws -> Set<String> { Set(try documentedParameters().keys) }

    /// `Schemas/openapi.json`'s query and header parameters of each route ("METHOD path").
    static func documentedParameters() throws -> [String: (query: Set<String>, headers: Set<String>)] {
        let document = try JSONValue.parse(try Data(contentsOf: openAPIDocument), what: "Schemas/openapi.json")
        func resolve(_ value: JSONValue) -> JSONValue {
            guard let reference = value["$ref"]?.stringValue else { return value }
            return reference.dropFirst(2).split(separator: "/").reduce(document) { $0[String($1)] ?? .null }
        }
        var result: [String: (query: Set<String>, headers: Set<String>)] = [:]
        guard case .object(let paths)? = document["paths"] else { throw HTTPTestError("the document has no paths") }
        for (path, operations) in paths {
            guard case .object(let methods) = operations else { continue }
            for (method, operation) in methods {
                var entry = (query: Set<String>(), headers: Set<String>())
                for parameter in operation["parameters"]?.arrayValue ?? [] {
                    let parameter = resolve(parameter)
                    guard let name = parameter["name"]?.stringValue else { continue }
                    switch parameter["in"]?.stringValue {
                    case "query": entry.query.insert(name)
                    case "header": entry.headers.insert(name)
                    default: break
                    }
                }
                result["\(method.uppercased()) \(path)"] = entry
            }
        }
        return result
    }

    /// The document and the server name the same routes: the server registers only routes of
    /// its table, the table is the document's, and each documented route answers (with
    /// anything but `no-route`) on a running server.
    @Test func theOpenAPIDocumentAndTheServerHaveTheSameRoutes() async throws {
        let documented = try Self.documentedRoutes()
        #expect(Set(Routes.table.map { "\($0.method) \($0.path)" }) == documented)
        // Each route reads the query and header parameters the document declares for it.
        let parameters = try Self.documentedParameters()
        for route in Routes.table {
            let name = "\(route.method) \(route.path)"
            #expect(Set(route.query) == parameters[name]?.query ?? [], "\(name): query parameters")
            #expect(Set(route.headers) == parameters[name]?.headers ?? [], "\(name): header parameters")
        }
        let fixture = try await StoreFixture()
        defer { Task { await fixture.destroy() } }
        let host = try await HTTPHost(fixture, hostID: "api", definitions: ["order": try Self.orderApproval()])
        defer { Task { _ = await host.stop() } }
        for route in documented.sorted() {
            let parts = route.split(separator: " ", maxSplits: 1)
            let path = parts[1].replacingOccurrences(of: "{id}", with: "00000000")
            if path == "/metrics" {
                let (_, response) = try await URLSession.shared.data(from: try #require(URL(string: host.base + path)))
                #expect((response as? HTTPURLResponse)?.statusCode == 200)
                continue
            }
            let answer = try await host.call(String(parts[0]), path, parts[0] == "GET" ? nil : "{}")
            #expect(answer.json["error"]?["code"] != .string("no-route"), "\(route): \(answer.json)")
        }
        #expect(
            try await host.call("GET", "/v1/instances/00000000/nothing").json["error"]?["code"] == .string("no-route"))
        // A parameter the route does not read is refused, not ignored.
        let misspelt = try await host.call("GET", "/v1/instances?stauts=idle")
        #expect(misspelt.status == 400 && misspelt.json["error"]?["code"] == .string("invalid-input"))
        try host.expectConformance()
    }

    /// The document is valid OpenAPI 3.1 (checked with Python's `openapi-spec-validator`, an
    /// independent validator).
    @Test func theOpenAPIDocumentIsValid() throws {
        let (status, text) = try Self.python(
            "-c",
            "import json, sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); "
                + "print('valid')",
            Self.openAPIDocument.path)
        #expect(
            status == 0 && text.contains("valid"),
            "python3 with openapi-spec-validator is needed (scripts/setup installs it): \(text)")
    }

    /// A file of the repository.
    static func repository(_ path: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(path)
    }

    static let openAPIDocument = repository("Schemas/openapi.json")

    /// Runs python3 with `arguments`; its exit status and its output (stdout and stderr).
    static func python(_ arguments: String...) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func anOrderIsSubmittedThenApproved() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.destroy() } }
        let host = try await HTTPHost(
            fixture, hostID: "api", definitions: ["order": try Self.orderApproval()],
            arguments: ["--log-format", "json", "--tracking", "instance"])
        defer { Task { _ = await host.stop() } }

        let submitted = try await host.call(
            "POST", "/v1/messages?wait=idle", #"{"operation": "submit", "body": {"orderId": 7, "total": 30}}"#)
        #expect(submitted.status == 200)
        #expect(submitted.json["entry"]?["state"] == .string("applied"))
        #expect(submitted.json["instance"]?["status"] == .string("idle"))
        #expect(submitted.json["instance"]?["bookmarks"]?[0]?["operation"] == .string("approve"))
        let id = try #require(submitted.json["instance"]?["id"]?.stringValue)

        let listed = try await host.call("GET", "/v1/instances?key=orderId=7&status=idle")
        #expect(listed.status == 200 && listed.json["instances"]?[0]?["id"] == .string(id))
        let shown = try await host.call("GET", "/v1/instances/\(id.prefix(8))")
        #expect(shown.status == 200 && shown.json["variables"]?["order"]?["total"] == .number(30))

        let approved = try await host.call(
            "POST", "/v1/messages?wait=completed", #"{"operation": "approve", "body": {"orderId": 7}}"#)
        #expect(approved.status == 200)
        #expect(approved.json["instance"]?["status"] == .string("completed"))
        #expect(approved.json["instance"]?["variables"]?["status"] == .string("approved"))
        let history = try await host.call("GET", "/v1/instances/\(id)/history")
        let kinds = history.json["records"]?.arrayValue?.map { $0["kind"]?.stringValue ?? "" }
        #expect(kinds?.first == "created" && kinds?.last == "completed", "\(history.json)")
        let firstPage = try await host.call("GET", "/v1/instances/\(id)/history?limit=1")
        let after = try #require(firstPage.json["continuation"]?.stringValue)
        let rest = try await host.call("GET", "/v1/instances/\(id)/history?after=\(after)&limit=1000")
        #expect(rest.json["records"]?.arrayValue?.count == (kinds?.count ?? 0) - 1)
        #expect(rest.json["continuation"] == .null)
        // The instance as its first save left it: waiting for the approval.
        let revision = try await host.call("GET", "/v1/instances/\(id)?revision=2")
        #expect(revision.status == 200 && revision.json["version"] == .number(2), "\(revision.json)")
        #expect(revision.json["variables"]?["status"] != .string("approved"))
        let none = try await host.call("GET", "/v1/instances/\(id)?revision=99")
        #expect(none.status == 404 && none.json["error"]?["code"] == .string("instance-not-found"))
        let inbox = try await host.call("GET", "/v1/instances/\(id)/inbox")
        #expect(inbox.json.arrayValue?.map { $0["operation"] } == [.string("submit"), .string("approve")])

        // The host's and the server's metrics, in Prometheus's text format.
        let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: host.base + "/metrics")))
        let metrics = String(decoding: data, as: UTF8.self)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        for expected in [
            #"steadfast_instances_started_total{definition="order-approval"} 1"#,
            #"steadfast_instances_finished_total{definition="order-approval",status="completed"} 1"#,
            #"steadfast_http_requests_total{method="POST",route="/v1/messages",status="200"} 2"#,
            "steadfast_save_duration_seconds_count", "steadfast_detection_rounds_total",
            "steadfast_group_commit_batch_size_count",
        ] {
            #expect(metrics.contains(expected), "\(expected) in:\n\(metrics)")
        }

        // --log-format json: every line on stderr is a JSON object; the instance's lines name it,
        // its definition and the host.
        let lines = try String(contentsOf: host.stderr, encoding: .utf8).split(separator: "\n")
        let entries = try lines.map { try JSONValue.parse(String($0), what: "a log line") }
        #expect(entries.allSatisfy { $0["time"]?.stringValue != nil && $0["level"]?.stringValue != nil })
        let mine = entries.filter { $0["instance"] == .string(id) }
        #expect(
            mine.map { $0["message"]?.stringValue ?? "" } == ["started", "order 7 is approved", "completed"], "\(lines)"
        )
        #expect(mine.map { $0["event"]?.stringValue ?? "" } == ["started", "line", "finished"])
        #expect(
            mine.allSatisfy { $0["definition"] == .string("order-approval") && $0["host"] == .string("api") },
            "\(mine)")
        try host.expectConformance()
    }

    /// A billing workflow whose version 1 faults once approved; version 2 fixes it.
    static func billing(version: String, afterApproval: String) -> String {
        """
        { "name": "billing", "version": "\(version)", "variables": { "orderId": null, "order": null, "status": "new" },
          "keys": ["orderId"],
          "body": { "sequence": [
            { "receive": { "operation": "submit", "assignTo": "order" } },
            { "assign": { "to": "orderId", "value": "order.orderId" } },
            { "persist": {} },
            { "receive": { "operation": "approve", "correlateOn": "orderId" } },
            \(afterApproval) ] } }
        """
    }

    /// A faulted instance is recovered onto the fixed version and completes; a fork from before
    /// the fault runs too; a refusal names its reason with its code.
    @Test func aFaultedInstanceIsRecoveredAndForked() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.destroy() } }
        let host = try await HTTPHost(
            fixture, hostID: "api",
            definitions: [
                "billing-1": Self.billing(version: "1", afterApproval: #"{ "throw": { "message": "'broken'" } }"#),
                "billing-2": Self.billing(
                    version: "2", afterApproval: #"{ "assign": { "to": "status", "value": "'billed'" } }"#),
            ],
            arguments: ["--tracking", "instance"])
        defer { Task { _ = await host.stop() } }

        let started = try await host.call("POST", "/v1/instances", #"{"definition": "billing", "version": "1"}"#)
        let id = try #require(started.json["id"]?.stringValue, "\(started.json)")
        _ = try await host.call(
            "POST", "/v1/instances/\(id)/messages?wait=idle", #"{"operation": "submit", "body": {"orderId": 7}}"#)
        let approved = try await host.call(
            "POST", "/v1/messages?wait=completed", #"{"operation": "approve", "body": {"orderId": 7}}"#)
        #expect(approved.json["instance"]?["status"] == .string("faulted"), "\(approved.json)")

        let wrong = try await host.call("POST", "/v1/instances/\(id)/recover", #"{"version": "9"}"#)
        #expect(wrong.status == 404 && wrong.json["error"]?["code"] == .string("definition-not-found"), "\(wrong.json)")
        let history = try await host.call("GET", "/v1/instances/\(id)/history")
        let records = history.json["records"]?.arrayValue ?? []
        let lastGood = try #require(
            records.last { $0["kind"] == .string("persisted") }?["version"]?.numberValue, "\(history.json)")
        let fork = try await host.call(
            "POST", "/v1/instances/\(id)/fork",
            #"{"from": \#(Int(lastGood)), "version": "2", "variables": {"orderId": 8}}"#)
        #expect(fork.status == 201 && fork.json["definition"]?["version"] == .string("2"), "\(fork.json)")
        let taken = try await host.call("POST", "/v1/instances/\(id)/fork", #"{"from": \#(Int(lastGood))}"#)
        #expect(taken.status == 409 && taken.json["error"]?["code"] == .string("key-conflict"), "\(taken.json)")

        let recovered = try await host.call("POST", "/v1/instances/\(id)/recover", #"{"version": "2"}"#)
        #expect(recovered.status == 200 && recovered.json["status"] == .string("idle"), "\(recovered.json)")
        for orderId in [7, 8] {
            let done = try await host.call(
                "POST", "/v1/messages?wait=completed", #"{"operation": "approve", "body": {"orderId": \#(orderId)}}"#)
            #expect(done.json["instance"]?["variables"]?["status"] == .string("billed"), "\(done.json)")
        }
        let rewound = try await host.call("POST", "/v1/instances/\(id)/rewind", #"{"to": 0}"#)
        #expect(rewound.status == 400 && rewound.json["error"]?["code"] == .string("invalid-input"))
        try host.expectConformance()
    }

    @Test func anOrderNobodyApprovesExpires() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.destroy() } }
        let host = try await HTTPHost(
            fixture, hostID: "api", definitions: ["order": try Self.orderApproval(timeout: "PT1S")])
        defer { Task { _ = await host.stop() } }
        let submitted = try await host.call(
            "POST", "/v1/messages?wait=idle", #"{"operation": "submit", "body": {"orderId": 8}}"#)
        let id = try #require(submitted.json["instance"]?["id"]?.stringValue)
        let shown = try await host.completed(id)
        #expect(shown.json["status"] == .string("completed"))
        #expect(shown.json["variables"]?["status"] == .string("expired"))
        let (data, _) = try await URLSession.shared.data(from: try #require(URL(string: host.base + "/metrics")))
        #expect(String(decoding: data, as: UTF8.self).contains("steadfast_timer_lateness_seconds_count 1"))
        try host.expectConformance()
    }

    @Test func aMessageSentBeforeItsReceiveOpensIsAppliedWhenItOpens() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.destroy() } }
        let host = try await HTTPHost(fixture, hostID: "api", definitions: ["latecomer": Self.latecomer])
        defer { Task { _ = await host.stop() } }
        let started = try await host.call("POST", "/v1/instances", #"{"definition": "latecomer"}"#)
        #expect(started.status == 201)
        let id = try #require(started.json["id"]?.stringValue)
        let accepted = try await host.call(
            "POST", "/v1/instances/\(id)/messages?wait=accepted", #"{"operation": "ping", "body": {"n": 5}}"#)
        #expect(accepted.status == 200 && accepted.json["entry"]?["state"] == .string("pending"))
        // It waits in the inbox, which /metrics shows.
        let (data, _) = try await URLSession.shared.data(from: try #require(URL(string: host.base + "/metrics")))
        let metrics = String(decoding: data, as: UTF8.self)
        #expect(metrics.contains("steadfast_inbox_pending 1"), "\(metrics)")
        #expect(metrics.contains("steadfast_inbox_oldest_age_seconds "), "\(metrics)")
        let shown = try await host.completed(id)
        #expect(shown.json["status"] == .string("completed"))
        #expect(shown.json["variables"]?["got"]?["n"] == .number(5))
        try host.expectConformance()
    }

    /// Retries of a start with one `Idempotency-Key`, one after another or at once, start one
    /// instance; the key with another request is refused. `version` picks the version started.
    @Test func anIdempotencyKeyMakesRetriesStartOneInstance() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.destroy() } }
        let second = Self.latecomer.replacingOccurrences(of: #""version": "1""#, with: #""version": "2""#)
        let host = try await HTTPHost(fixture, hostID: "api", definitions: ["v1": Self.latecomer, "v2": second])
        defer { Task { _ = await host.stop() } }
        let start = #"{"definition": "latecomer", "version": "1"}"#
        let key = ["Idempotency-Key": "start-1"]

        let first = try await host.call("POST", "/v1/instances", start, headers: key)
        #expect(first.status == 201 && first.headers["idempotent-replayed"] == nil)
        #expect(first.json["definition"]?["version"] == .string("1"))
        let id = try #require(first.json["id"]?.stringValue)
        let retried = try await host.call("POST", "/v1/instances", start, headers: key)
        #expect(retried.status == 201 && retried.json["id"] == .string(id))
        #expect(retried.headers["idempotent-replayed"] == "true")
        let other = try await host.call("POST", "/v1/instances", #"{"definition": "latecomer"}"#, headers: key)
        #expect(other.status == 422 && other.json["error"]?["code"] == .string("idempotency-key-reused"))
        let newest = try await host.call("POST", "/v1/instances", #"{"definition": "latecomer"}"#)
        #expect(newest.status == 201 && newest.json["definition"]?["version"] == .string("2"))

        let ids = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await host.call("POST", "/v1/instances", start, headers: ["Idempotency-Key": "start-2"])
                        .json["id"]?.stringValue
                }
            }
            return try await group.reduce(into: Set<String?>()) { $0.insert($1) }
        }
        #expect(ids.count == 1 && ids.first! != nil && ids.first! != id, "\(ids)")
        let listed = try await host.call("GET", "/v1/instances?definition=latecomer")
        #expect(listed.json["instances"]?.arrayValue?.count == 3)
        try host.expectConformance()
    }

    @Test func suspendTerminateAndPurge() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.destroy() } }
        let host = try await HTTPHost(
            fixture, hostID: "api", definitions: ["order": try Self.orderApproval(timeout: "PT1S")])
        defer { Task { _ = await host.stop() } }
        var ids: [String] = []
        for order in [1, 2] {
            let submitted = try await host.call(
                "POST", "/v1/messages?wait=idle", #"{"operation": "submit", "body": {"orderId": \#(order)}}"#)
            ids.append(try #require(submitted.json["instance"]?["id"]?.stringValue))
        }
        // Terminated before its timer is due, with a reason that is kept.
        let terminated = try await host.call(
            "POST", "/v1/instances/\(ids[1])/terminate", #"{"reason": "customer cancelled"}"#)
        #expect(terminated.status == 200)
        let shown = try await host.call("GET", "/v1/instances/\(ids[1])")
        #expect(shown.json["status"] == .string("terminated"))
        #expect(shown.json["terminationReason"] == .string("customer cancelled"))
        // Suspended, its timer comes due and does not fire; unsuspended, it fires.
        let suspended = try await host.call("POST", "/v1/instances/\(ids[0])/suspend")
        #expect(suspended.status == 200 && suspended.json["instance"]?["suspended"] == .bool(true))
        try await Task.sleep(for: .seconds(2))
        #expect(try await host.call("GET", "/v1/instances/\(ids[0])").json["status"] == .string("idle"))
        let resumed = try await host.call("POST", "/v1/instances/\(ids[0])/unsuspend?wait=completed")
        #expect(resumed.status == 200 && resumed.json["instance"]?["variables"]?["status"] == .string("expired"))

        let dryRun = try await host.call("POST", "/v1/purge", #"{"dryRun": true}"#)
        #expect(dryRun.status == 200)
        #expect(try await host.call("GET", "/v1/instances").json["instances"]?.arrayValue?.count == 2)
        let purged = try await host.call("POST", "/v1/purge", #"{"statuses": ["terminated"]}"#)
        #expect(purged.status == 200)
        #expect(try await host.call("GET", "/v1/instances/\(ids[1])").status == 404)
        let deleted = try await host.call("DELETE", "/v1/instances/\(ids[0])")
        #expect(deleted.status == 200)
        #expect(try await host.call("GET", "/v1/instances").json["instances"]?.arrayValue?.isEmpty == true)
        try host.expectConformance()
    }

    /// SIGTERM while a request waits: the server stops accepting, the request finishes (the
    /// host still runs until the server has stopped), then the host saves and the process exits.
    @Test func aRequestInFlightAtSIGTERMFinishes() async throws {
        let slow = """
            { "name": "slow", "version": "1", "variables": { "id": null }, "keys": ["id"],
              "body": { "sequence": [
                { "receive": { "operation": "go", "correlateOn": "id", "createsInstance": true } },
                { "delay": { "duration": "PT2S" } } ] } }
            """
        let fixture = try await StoreFixture()
        defer { Task { await fixture.destroy() } }
        let host = try await HTTPHost(fixture, hostID: "api", definitions: ["slow": slow])
        async let answer = host.call("POST", "/v1/messages?wait=completed", #"{"operation": "go", "body": {"id": 1}}"#)
        try await Task.sleep(for: .milliseconds(700))
        kill(host.process.processIdentifier, SIGTERM)
        let finished = try await answer
        #expect(finished.status == 200)
        #expect(finished.json["instance"]?["status"] == .string("completed"))
        #expect(await host.stop() == 0)
    }

    @Test func wrongInputIsA4xxWithItsCode() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.destroy() } }
        let host = try await HTTPHost(fixture, hostID: "api", definitions: ["order": try Self.orderApproval()])
        defer { Task { _ = await host.stop() } }
        func expectError(
            _ method: String, _ path: String, _ body: String?, _ status: Int, _ code: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            let answer = try await host.call(method, path, body)
            #expect(answer.status == status, "\(method) \(path)", sourceLocation: sourceLocation)
            #expect(answer.json["error"]?["code"] == .string(code), "\(answer.json)", sourceLocation: sourceLocation)
            #expect(answer.json["error"]?["message"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
        }
        try await expectError("POST", "/v1/messages", "{not json", 400, "invalid-input")
        try await expectError("POST", "/v1/messages", "[1, 2]", 400, "invalid-input")
        try await expectError("POST", "/v1/messages", #"{"body": {}}"#, 400, "invalid-input")
        try await expectError("POST", "/v1/messages?wait=soon", #"{"operation": "submit"}"#, 400, "invalid-input")
        try await expectError("POST", "/v1/instances", #"{"definition": "nope"}"#, 404, "definition-not-found")
        try await expectError(
            "POST", "/v1/messages", #"{"operation": "approve", "body": {"orderId": 404}}"#, 404, "key-not-found")
        try await expectError("GET", "/v1/instances/00000000", nil, 404, "instance-not-found")
        try await expectError("GET", "/v1/instances?limit=0", nil, 400, "invalid-input")
        try await expectError("GET", "/v1/nothing-here", nil, 404, "no-route")
        let big = "{\"operation\": \"submit\", \"body\": \"" + String(repeating: "a", count: 1 << 20) + "\"}"
        try await expectError("POST", "/v1/messages", big, 413, "payload-too-large")
        #expect(try await host.call("GET", "/v1/instances").json["instances"]?.arrayValue?.isEmpty == true)
        try host.expectConformance()
    }

    @Test func aTokenGuardsEveryRouteButHealthz() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.destroy() } }
        let host = try await HTTPHost(
            fixture, hostID: "api", definitions: ["order": try Self.orderApproval()], token: "s3cret")
        defer { Task { _ = await host.stop() } }
        #expect(try await host.call("GET", "/healthz").status == 200)
        let missing = try await host.call("GET", "/v1/definitions")
        #expect(missing.status == 401 && missing.json["error"]?["code"] == .string("unauthorized"))
        #expect(try await host.call("GET", "/v1/definitions", token: "wrong").status == 401)
        #expect(try await host.call("GET", "/readyz", token: "s3cret").status == 200)
        let definitions = try await host.call("GET", "/v1/definitions", token: "s3cret")
        #expect(definitions.status == 200 && definitions.json[0]?["name"] == .string("order-approval"))
        try host.expectConformance()
    }

    @Test func aPublicAddressWithoutATokenIsRefused() async throws {
        let fixture = try await StoreFixture()
        defer { Task { await fixture.destroy() } }
        let definition = fixture.folder.appendingPathComponent("order.json")
        try Data(try Self.orderApproval().utf8).write(to: definition)
        let result = try await fixture.wf(
            "serve", "--definitions", definition.path, "--store", fixture.url, "--http", "0.0.0.0:0", "--json")
        #expect(result.status != 0)
        #expect(result.stdout.contains("invalid-input") && result.stdout.contains("--auth-token"), "\(result)")
    }

    @Test(arguments: StoreKind.available)
    func aMessageToTheHostThatDoesNotHoldTheInstanceIsApplied(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { Task { await fixture.destroy() } }
        let definitions = ["order": try Self.orderApproval()]
        let holder = try await HTTPHost(fixture, hostID: "holder", definitions: definitions)
        let other = try await HTTPHost(fixture, hostID: "other", definitions: definitions)
        let submitted = try await holder.call(
            "POST", "/v1/messages?wait=idle", #"{"operation": "submit", "body": {"orderId": 9}}"#)
        #expect(submitted.json["instance"]?["lockOwner"]?["hostID"] == .string("holder"))
        let approved = try await other.call(
            "POST", "/v1/messages?wait=completed", #"{"operation": "approve", "body": {"orderId": 9}}"#)
        #expect(approved.status == 200)
        #expect(approved.json["instance"]?["variables"]?["status"] == .string("approved"))
        // SIGTERM: each server stops, then its host saves and unlocks; both exit cleanly.
        #expect(await other.stop() == 0)
        #expect(await holder.stop() == 0)
    }
}

extension JSONValue {
    fileprivate subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }

    fileprivate var stringValue: String? {
        if case .string(let text) = self { text } else { nil }
    }

    fileprivate var arrayValue: [JSONValue]? {
        if case .array(let items) = self { items } else { nil }
    }

    fileprivate var numberValue: Double? {
        if case .number(let value) = self { value } else { nil }
    }
}
