import Foundation
import Testing

@testable import SteadfastCore

@Suite struct DefinitionTests {
    static let samples: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Samples")

    static var sampleFiles: [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: samples, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
    }

    @Test func everySampleLoads() throws {
        #expect(Self.sampleFiles.count >= 4)
        for file in Self.sampleFiles {
            _ = try WorkflowDefinition(json: try Data(contentsOf: file))
        }
    }

    @Test func dslAndJSONGiveTheSameTree() throws {
        let json = try WorkflowDefinition(
            json: try Data(contentsOf: Self.samples.appendingPathComponent("order-approval.json")))
        let dsl = try WorkflowDefinition(
            name: "order-approval", version: "1", variables: ["orderId": nil, "order": nil, "status": "new"],
            keys: ["orderId"], promote: ["status"]
        ) {
            Receive("submit", correlateOn: "orderId", createsInstance: true, assignTo: "order")
            Assign("orderId", "order.orderId")
            Persist()
            Pick {
                Trigger(Receive("approve", correlateOn: "orderId")) { Assign("status", "'approved'") }
                Trigger(Delay("PT72H")) { Assign("status", "'expired'") }
            }
            WriteLine("'order ' + orderId + ' is ' + status")
        }
        #expect(dsl.body == json.body)
        #expect(dsl.identity == json.identity)
    }

    @Test func dslCoversEveryActivityAndCarriesClosures() throws {
        let wf = try WorkflowDefinition(name: "all", version: "2", variables: ["n": 1, "err": nil, "r": nil]) {
            Parallel {
                Sequential {
                    Delay(until: "addDuration(now(), 'PT1S')")
                    WriteLine("'a'")
                }
                NoPersist { InvokeAsync("fetch", input: "n", assignTo: "r") { input in input } }
            }
            If("n > 0") {
                Invoke("triple", input: "n", assignTo: "n") { input in .number((input.numberValue ?? 0) * 3) }
            } else: {
                Terminate("'negative'")
            }
            While("n < 10") { Assign("n", "n + 1") }
            TryCatch(errorTo: "err") {
                Throw("'oops'")
            } catch: {
                WriteLine("err.message")
            }
            Pick { Trigger(Receive("go")) }
        }
        #expect(Set(wf.registry.names) == ["fetch", "triple"])
        let kinds = { () -> Set<String> in
            var found: Set<String> = []
            wf.body.visit { found.insert($0.kind) }
            return found
        }()
        #expect(
            kinds == [
                "sequence", "parallel", "delay", "writeLine", "noPersist", "invoke", "if", "terminate", "while",
                "assign", "tryCatch", "throw", "pick", "receive",
            ])
        // The JSON form reads back to the same definition.
        let reread = try WorkflowDefinition(document: wf.jsonValue, registry: wf.registry)
        #expect(reread.body == wf.body && reread.identity == wf.identity)
    }

    @Test func structuralProblemsAreAllReportedWithPaths() {
        let found = problems(
            """
            {"sequence": [
                {"sequnce": []},
                {"assign": {"to": "x"}},
                {"delay": {"duration": "PT1S", "until": "now()"}},
                {"receive": {"operation": "a", "createsInstance": "yes"}},
                {"pick": [{"trigger": {"writeLine": {"text": "'x'"}}}]},
                {"persist": {"now": true}},
                {"writeLine": {"text": 5}},
                "persist"
            ]}
            """, variables: ["x": 0])
        #expect(found.contains("body.sequence[0]: unknown activity kind 'sequnce'"))
        #expect(found.contains("body.sequence[1].assign.value: missing required field"))
        #expect(found.contains { $0.hasPrefix("body.sequence[2].delay: 'delay' takes exactly one of") })
        #expect(found.contains("body.sequence[3].receive.createsInstance: must be true or false"))
        #expect(found.contains { $0.hasPrefix("body.sequence[5].persist.now: unknown field") })
        #expect(found.contains { $0.hasPrefix("body.sequence[6].writeLine.text: must be a string") })
        #expect(found.contains { $0.hasPrefix("body.sequence[7]: an activity must be an object") })
        // Reading problems do not hide the checks of the parts that could be read.
        #expect(
            found.contains {
                $0.hasPrefix("body.sequence[4].pick[0].trigger: a pick trigger must be a receive or a delay")
            })
        #expect(found.count == 8, "\(found)")
    }

    @Test func semanticProblemsNamePathFieldAndColumn() {
        let found = problems(
            """
            {"sequence": [
                {"assign": {"to": "total", "value": "price * qty"}},
                {"writeLine": {"text": "'a' +"}},
                {"delay": {"duration": "72 hours"}},
                {"receive": {"operation": "approve", "correlateOn": "orderNo"}},
                {"pick": [{"trigger": {"writeLine": {"text": "'x'"}}}]},
                {"noPersist": {"body": {"persist": {}}}},
                {"receive": {"operation": "submit", "createsInstance": true}},
                {"invoke": {"activity": "charge"}}
            ]}
            """, variables: ["price": 1, "qty": 2], keys: ["orderId"])
        #expect(found.contains { $0.hasPrefix("body.sequence[0].assign.to, column 1: unknown variable 'total'") })
        #expect(found.contains { $0.hasPrefix("body.sequence[1].writeLine.text, column 6: expected a value") })
        #expect(
            found.contains { $0.hasPrefix("body.sequence[2].delay.duration: '72 hours' is not an ISO-8601 duration") })
        #expect(found.contains { $0.hasPrefix("body.sequence[3].receive.correlateOn: 'orderNo' is not one of") })
        #expect(
            found.contains {
                $0.hasPrefix("body.sequence[4].pick[0].trigger: a pick trigger must be a receive or a delay")
            })
        #expect(found.contains { $0.hasPrefix("body.sequence[5].noPersist.body.persist: a persist cannot run inside") })
        #expect(
            found.contains {
                $0.hasPrefix(
                    "body.sequence[6].receive.createsInstance: a receive that creates instances must be the first")
            })
        #expect(found.contains { $0.hasPrefix("body.sequence[7].invoke.activity: no custom activity named 'charge'") })
        #expect(found.contains { $0.hasPrefix("keys[0]: 'orderId' is not a declared variable") })
        #expect(found.count == 9, "\(found)")
    }

    @Test func unknownVariableColumnInsideExpression() {
        let found = problems(#"{"writeLine": {"text": "'hello ' + nmae"}}"#, variables: ["name": "x"])
        #expect(
            found == [
                "body.writeLine.text, column 12: unknown variable 'nmae' (declared: name); declare it under \"variables\""
            ])
    }

    @Test func malformedDocuments() {
        func problemsOf(_ text: String) -> [String] {
            do {
                _ = try WorkflowDefinition(json: Data(text.utf8))
                return []
            } catch {
                return error.problems.map(\.description)
            }
        }
        #expect(problemsOf("{\"name\": ").first?.hasPrefix("the definition is not valid JSON") == true)
        #expect(problemsOf("[]") == ["a definition must be a JSON object with name, version and body"])
        let missing = problemsOf(#"{"name": 3, "extra": 1}"#)
        #expect(
            missing.contains(
                "extra: unknown field; expected $schema, name, version, description, variables, keys, promote, body"))
        #expect(missing.contains("name: must be a string, not a number"))
        #expect(missing.contains("version: missing required field"))
        #expect(missing.contains("body: missing required field"))
        let located = problemsOf("{\"name\": \"x\",\n \"body\": [,]}")
        #expect(located == ["the definition is not valid JSON: line 2, column 11: invalid value"])
    }

    @Test func fingerprintChangesWithContent() throws {
        let a = try definition(#"{"writeLine": {"text": "'a'"}}"#)
        let b = try definition(#"{"writeLine": {"text": "'b'"}}"#)
        #expect(a.identity.name == b.identity.name && a.identity.version == b.identity.version)
        #expect(a.identity.fingerprint != b.identity.fingerprint)
        #expect(a.identity == (try definition(#"{"writeLine": {"text": "'a'"}}"#)).identity)
    }

    /// Every sample validates against the published JSON Schema (checked with Python's
    /// `jsonschema`, an independent validator), and the schema rejects malformed documents.
    @Test func samplesValidateAgainstTheJSONSchema() throws {
        let schema = Self.samples.deletingLastPathComponent().appendingPathComponent(
            "Schemas/workflow-definition.schema.json")
        let invalid = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-invalid-\(UUID()).json")
        try Data(#"{"name": "x", "version": "1", "body": {"sequnce": []}}"#.utf8).write(to: invalid)
        defer { try? FileManager.default.removeItem(at: invalid) }
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            validator = jsonschema.Draft202012Validator(schema)
            for path in sys.argv[2:]:
                errors = list(validator.iter_errors(json.load(open(path))))
                print(path, "valid" if not errors else "invalid: " + errors[0].message[:120])
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, schema.path] + Self.sampleFiles.map(\.path) + [invalid.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try #require(
            process.terminationStatus == 0, "python3 with jsonschema is needed (pip install jsonschema): \(text)")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == Self.sampleFiles.count + 1)
        for file in Self.sampleFiles { #expect(lines.contains("\(file.path) valid"), "\(text)") }
        #expect(lines.contains { $0.hasPrefix("\(invalid.path) invalid") }, "\(text)")
    }
}

extension JSONValue {
    var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }
}
