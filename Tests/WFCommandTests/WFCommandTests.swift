import Foundation
import SteadfastCore
import SteadfastSQLite
import SteadfastStore
import Testing

/// `wf instances`, `show`, `suspend`, `unsuspend`, `terminate`, `cancel` and `purge`, run as the
/// built binary against a temporary SQLite file.
@Suite("wf commands against a SQLite store")
struct WFCommandTests {
    @Test func instancesListsEveryInstanceAsJSON() async throws {
        let fixture = try await StoreFixture()
        let first = try await fixture.createInstance(orderId: 42)
        // A large variable makes the state big enough to be stored gzip-compressed.
        let second = try await fixture.createInstance(orderId: 43, notes: String(repeating: "long note ", count: 500))
        let corrupt = try await fixture.createCorruptInstance()

        let run = try await fixture.wf("instances", "--store", fixture.url, "--json")
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty)
        let page = try #require(try run.json() as? [String: Any], "\(run)")
        let list = try #require(page["instances"] as? [[String: Any]], "\(run)")
        #expect(page["continuation"] is NSNull)
        #expect(list.count == 3)
        let byID = Dictionary(uniqueKeysWithValues: list.map { ($0["id"] as? String ?? "", $0) })

        let view = try #require(byID[first.uuidString])
        #expect(view["status"] as? String == "idle")
        #expect(view["suspended"] as? Bool == false)
        #expect((view["definition"] as? [String: Any])?["name"] as? String == "order")
        #expect((view["definition"] as? [String: Any])?["version"] as? String == "1")
        #expect((view["variables"] as? [String: Any])?["orderId"] as? Int == 42)
        #expect((view["variables"] as? [String: Any])?["status"] as? String == "new")
        let bookmarks = try #require(view["bookmarks"] as? [[String: Any]])
        #expect(bookmarks.count == 1)
        #expect(bookmarks.first?["operation"] as? String == "approve")
        #expect(bookmarks.first?["correlateOn"] as? String == "orderId")
        let due = StoreFixture.started.adding(milliseconds: 3_600_000).iso8601
        #expect(view["nextTimer"] as? String == due)
        #expect(view["lockOwner"] is NSNull)
        #expect((view["keys"] as? [String: Any])?["orderId"] as? Int == 42, "keys keep their JSON type")
        #expect(view["fault"] is NSNull)
        #expect(view["terminationReason"] is NSNull)
        #expect(view["stateError"] == nil)
        #expect((view["createdAt"] as? String).flatMap(Instant.init(iso8601:)) != nil)
        #expect((view["updatedAt"] as? String).flatMap(Instant.init(iso8601:)) != nil)

        let big = try #require(byID[second.uuidString])
        #expect(((big["variables"] as? [String: Any])?["notes"] as? String)?.count == 5000)
        let gzipped = try await fixture.store.readInstance(second)
        #expect(gzipped.stateEncoding == .gzip)

        // A row whose state does not decode is still listed, with its metadata and why.
        let broken = try #require(byID[corrupt.uuidString])
        #expect(broken["status"] as? String == "idle")
        #expect(broken["variables"] is NSNull)
        #expect((broken["stateError"] as? String)?.isEmpty == false)

        // Filters.
        func count(_ arguments: String...) async throws -> Int? {
            let run = try await fixture.wf(["instances", "--store", fixture.url, "--json"] + arguments)
            return ((try run.json() as? [String: Any])?["instances"] as? [Any])?.count
        }
        #expect(try await count("--status", "idle") == 3)
        #expect(try await count("--status", "completed") == 0)
        #expect(try await count("--definition", "other") == 0)
        #expect(try await count("--key", "orderId=42") == 1)
        #expect(try await count("--key", #"orderId="42""#) == 0, "the string \"42\" is another key than 42")
        #expect(try await count("--updated-after", "2000-01-01T00:00:00Z") == 3)
        #expect(try await count("--updated-before", "2000-01-01T00:00:00Z") == 0)
        // Pages: two, then the rest from the continuation token.
        let limited = try #require(
            try await fixture.wf("instances", "--store", fixture.url, "--json", "--limit", "2").json() as? [String: Any]
        )
        #expect((limited["instances"] as? [Any])?.count == 2)
        let token = try #require(limited["continuation"] as? String)
        #expect(try await count("--limit", "2", "--continuation", token) == 1)
        let limitedTable = try await fixture.wf("instances", "--store", fixture.url, "--limit", "2")
        #expect(limitedTable.stdout.contains("--continuation"))

        // The human table names every instance.
        let table = try await fixture.wf("instances", "--store", fixture.url)
        #expect(table.status == 0)
        #expect(table.stdout.hasPrefix("ID"))
        for id in [first, second, corrupt] { #expect(table.stdout.contains(id.uuidString)) }
        await fixture.destroy()
    }

    @Test func storeComesFromTheEnvironmentOrTheWorkingFolder() async throws {
        let fixture = try await StoreFixture()
        try await fixture.createInstance(orderId: 1)
        let fromEnvironment = try await fixture.wf("instances", "--json", environment: ["STEADFAST_STORE": fixture.url])
        #expect(
            ((try fromEnvironment.json() as? [String: Any])?["instances"] as? [Any])?.count == 1, "\(fromEnvironment)")
        // Without --store or the variable: sqlite:steadfast.db in the working folder, which is not there.
        let missing = try await fixture.wf("instances")
        expectOneLineError(missing, containing: "steadfast.db")
        #expect(!FileManager.default.fileExists(atPath: fixture.folder.appendingPathComponent("steadfast.db").path))
        await fixture.destroy()
    }

    @Test func showPrintsOneInstance() async throws {
        let fixture = try await StoreFixture()
        let id = try await fixture.createInstance(orderId: 7)
        let run = try await fixture.wf("show", id.uuidString, "--store", fixture.url, "--json")
        #expect(run.status == 0, "\(run)")
        let view = try #require(try run.json() as? [String: Any], "\(run)")
        #expect(view["id"] as? String == id.uuidString)
        #expect(view["version"] as? Int == 1)
        #expect((view["variables"] as? [String: Any])?["orderId"] as? Int == 7)

        let text = try await fixture.wf("show", id.uuidString, "--store", fixture.url)
        #expect(text.status == 0)
        #expect(text.stdout.contains("status:"))
        #expect(text.stdout.contains("approve (correlates on orderId)"))
        #expect(text.stdout.contains("orderId = 7"))

        let unknown = try await fixture.wf("show", UUID().uuidString, "--store", fixture.url, "--json")
        expectJSONError(unknown, code: "instance-not-found")
        // A unique prefix names the instance; a prefix nothing has, or text that is no id, is an error.
        let byPrefix = try await fixture.wf("show", String(id.uuidString.prefix(8)), "--store", fixture.url, "--json")
        #expect((try byPrefix.json() as? [String: Any])?["id"] as? String == id.uuidString, "\(byPrefix)")
        let noSuchPrefix = try await fixture.wf("show", "0000000000", "--store", fixture.url)
        expectOneLineError(noSuchPrefix, containing: "no instance id starts with")
        let notAnID = try await fixture.wf("show", "order-7", "--store", fixture.url)
        expectOneLineError(notAnID, containing: "not an instance id")
        await fixture.destroy()
    }

    @Test func suspendKeepsAnInstanceFromRunnableDetection() async throws {
        let fixture = try await StoreFixture()
        let id = try await fixture.createInstance(orderId: 5)
        let before = try await fixture.store.readInstance(id)

        let suspend = try await fixture.wf("suspend", id.uuidString, "--store", fixture.url)
        #expect(suspend.status == 0, "\(suspend)")
        #expect(suspend.stdout.contains("Suspended instance \(id.uuidString): applied"), "\(suspend)")
        let suspended = try await fixture.store.readInstance(id)
        #expect(suspended.summary.isSuspended)
        #expect(suspended.summary.lock == nil)
        #expect(suspended.version == before.version + 1)
        #expect(suspended.state == before.state)
        #expect(suspended.keys == before.keys)
        #expect(suspended.bookmarks == before.bookmarks)
        #expect(suspended.summary.nextTimerAt == before.summary.nextTimerAt)

        // Its timer is due, yet no host picks it up; it can still be shown.
        let host = try await fixture.store.createLockOwner(hostID: "host", lockDuration: .seconds(60))
        #expect(try await fixture.store.tryLoadRunnableInstance(owner: host.id) == nil)
        let shown = try await fixture.wf("show", id.uuidString, "--store", fixture.url, "--json")
        #expect((try shown.json() as? [String: Any])?["suspended"] as? Bool == true)

        // A message sent meanwhile waits in the inbox and makes the suspended instance no more runnable.
        _ = try await fixture.store.enqueueMessage(for: id, operation: "approve", body: Data(#"{"orderId":5}"#.utf8))
        #expect(try await fixture.store.tryLoadRunnableInstance(owner: host.id) == nil)

        let unsuspend = try await fixture.wf("unsuspend", id.uuidString, "--store", fixture.url)
        #expect(unsuspend.status == 0, "\(unsuspend)")
        #expect(try await fixture.store.readInstance(id).summary.isSuspended == false)
        #expect(try await fixture.store.tryLoadRunnableInstance(owner: host.id)?.id == id)
        await fixture.destroy()
    }

    @Test func terminateEndsTheState() async throws {
        let fixture = try await StoreFixture()
        let id = try await fixture.createInstance(orderId: 9)
        let run = try await fixture.wf("terminate", id.uuidString, "--reason", "customer left", "--store", fixture.url)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("Terminated instance"), "\(run)")

        let record = try await fixture.store.readInstance(id)
        #expect(record.status == .terminated)
        #expect(record.bookmarks.isEmpty)
        #expect(record.summary.nextTimerAt == nil)
        #expect(record.summary.lock == nil)
        let state = try InstanceState.decode(record.state)
        #expect(state.status == .terminated)
        #expect(state.terminationReason == "customer left")
        #expect(state.timers.isEmpty)
        #expect(state.bookmarks.isEmpty)
        #expect(state.variables["orderId"] == 9)

        let shown = try await fixture.wf("show", id.uuidString, "--store", fixture.url, "--json")
        let view = try #require(try shown.json() as? [String: Any])
        #expect(view["status"] as? String == "terminated")
        #expect(view["terminationReason"] as? String == "customer left")
        #expect((view["bookmarks"] as? [Any])?.isEmpty == true)
        #expect(view["nextTimer"] is NSNull)

        // Terminating (or canceling) a finished instance is an error naming its status.
        let again = try await fixture.wf("terminate", id.uuidString, "--store", fixture.url)
        expectOneLineError(again, containing: "terminated")
        let cancel = try await fixture.wf("cancel", id.uuidString, "--store", fixture.url)
        expectOneLineError(cancel, containing: "already finished (terminated)")

        // Under deleteAll a terminated instance is still kept with its reason; a canceled one goes.
        let setting = try await fixture.wf("completion-action", "deleteAll", "--store", fixture.url, "--json")
        #expect((try setting.json() as? [String: Any])?["completionAction"] as? String == "deleteAll", "\(setting)")
        let other = try await fixture.createInstance(orderId: 10)
        let kept = try await fixture.wf("terminate", other.uuidString, "--store", fixture.url)
        #expect(kept.status == 0, "\(kept)")
        #expect(try await fixture.store.readInstance(other).status == .terminated)
        let third = try await fixture.createInstance(orderId: 13)
        let deleting = try await fixture.wf("cancel", third.uuidString, "--store", fixture.url)
        #expect(deleting.status == 0, "\(deleting)")
        #expect(deleting.stdout.contains("deleted"), "\(deleting)")
        await #expect(throws: InstanceStoreError.self) { try await fixture.store.readInstance(third) }
        await fixture.destroy()
    }

    @Test func cancelEndsTheStateAsCanceled() async throws {
        let fixture = try await StoreFixture()
        let id = try await fixture.createInstance(orderId: 11)
        _ = try await fixture.store.enqueueMessage(for: id, operation: "approve", body: Data(#"{"orderId":11}"#.utf8))
        // No host runs the definition here, yet the cancel applies: the message waiting before it
        // is rejected (the instance ended first) and kept with the reason.
        let run = try await fixture.wf("cancel", id.uuidString, "--store", fixture.url)
        #expect(run.status == 0, "\(run)")
        let record = try await fixture.store.readInstance(id)
        #expect(record.status == .canceled)
        #expect(try InstanceState.decode(record.state).status == .canceled)
        let inbox = try await fixture.wf("inbox", String(id.uuidString.prefix(8)), "--store", fixture.url, "--json")
        let entries = try #require(try inbox.json() as? [[String: Any]], "\(inbox)")
        #expect(entries.map { $0["kind"] as? String } == ["message", "cancel"])
        #expect(entries.map { $0["state"] as? String } == ["rejected", "applied"])
        #expect((entries[0]["rejection"] as? String)?.contains("canceled before this was applied") == true)
        // Its history records the cancel, applied by the operator's command.
        let history = try await fixture.wf("history", id.uuidString, "--store", fixture.url, "--json")
        let records = try #require(try history.json() as? [[String: Any]], "\(history)")
        #expect(records.last?["kind"] as? String == "canceled", "\(records)")
        await fixture.destroy()
    }

    /// A live host holds the instance (here a lock owner that applies nothing): every command is
    /// stored, nothing is refused, nothing is rewritten; a wait that runs out says so and leaves
    /// the command queued.
    @Test func commandsForAHeldInstanceWaitInItsInbox() async throws {
        let fixture = try await StoreFixture()
        let id = try await fixture.createInstance(orderId: 12, lockedBy: "busy-host")
        let before = try await fixture.store.readInstance(id)
        for command in ["terminate", "cancel", "suspend"] {
            let run = try await fixture.wf(
                command, id.uuidString, "--store", fixture.url, "--wait", "accepted", "--json")
            #expect(run.status == 0, "\(run)")
            #expect(((try run.json() as? [String: Any])?["entry"] as? [String: Any])?["state"] as? String == "pending")
        }
        let timedOut = try await fixture.wf(
            "unsuspend", id.uuidString, "--store", fixture.url, "--timeout", "0.3", "--json")
        expectJSONError(timedOut, code: "timeout")
        #expect(timedOut.stdout.contains("stays stored"))
        let after = try await fixture.store.readInstance(id)
        #expect(after.version == before.version)
        #expect(after.status == .idle)
        #expect(after.summary.lock?.hostID == "busy-host")
        #expect(
            try await fixture.store.inbox(for: id, pendingOnly: true).map(\.command.kind) == [
                "terminate", "cancel", "suspend", "unsuspend",
            ])
        // The same client id is stored once.
        for _ in 0..<2 {
            let run = try await fixture.wf(
                "suspend", id.uuidString, "--store", fixture.url, "--wait", "accepted", "--client-id", "op-1")
            #expect(run.status == 0, "\(run)")
        }
        #expect(try await fixture.store.inbox(for: id, pendingOnly: true).count == 5)
        await fixture.destroy()
    }

    @Test func purgeRemovesFinishedInstances() async throws {
        let fixture = try await StoreFixture()
        let idle = try await fixture.createInstance(orderId: 20)
        let completed = try await fixture.createFinishedInstance(orderId: 21, status: .completed)
        let terminated = try await fixture.createFinishedInstance(orderId: 22, status: .terminated)

        // A dry run lists what would go and deletes nothing; nothing is older than a day yet.
        let dryRun = try await fixture.wf("purge", "--dry-run", "--store", fixture.url, "--json")
        let planned = try #require(try dryRun.json() as? [String: Any], "\(dryRun)")
        #expect(planned["count"] as? Int == 2 && planned["dryRun"] as? Bool == true)
        #expect(Set(planned["ids"] as? [String] ?? []) == [completed.uuidString, terminated.uuidString])
        #expect(try await fixture.store.readInstance(completed).status == .completed)
        let old = try await fixture.wf("purge", "--older-than", "1d", "--store", fixture.url, "--json")
        #expect((try old.json() as? [String: Any])?["count"] as? Int == 0, "\(old)")

        let onlyCompleted = try await fixture.wf("purge", "--completed", "--store", fixture.url)
        #expect(onlyCompleted.status == 0, "\(onlyCompleted)")
        #expect(onlyCompleted.stdout == "Purged 1 completed instance.\n")
        await #expect(throws: InstanceStoreError.self) { try await fixture.store.readInstance(completed) }
        #expect(try await fixture.store.readInstance(terminated).status == .terminated)

        let all = try await fixture.wf("purge", "--store", fixture.url, "--json")
        #expect(all.status == 0, "\(all)")
        #expect((try all.json() as? [String: Any])?["count"] as? Int == 1)
        await #expect(throws: InstanceStoreError.self) { try await fixture.store.readInstance(terminated) }
        #expect(try await fixture.store.readInstance(idle).status == .idle)
        await fixture.destroy()
    }

    @Test(arguments: [
        ("nope:instances.db", "not valid"),
        ("sqlite:", "not valid"),
        (
            "postgres://app:s3cret@127.0.0.1:1/steadfast",
            "Cannot open the PostgreSQL store postgres://app:***@127.0.0.1:1"
        ),
        ("sqlite:missing/instances.db", "no store at"),
    ])
    func aBadStoreURLIsOneLineOnStderr(url: String, fragment: String) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wf-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for arguments in [["instances"], ["show", UUID().uuidString], ["purge"]] {
            let run = try await runWF(arguments + ["--store", url], in: folder)
            expectOneLineError(run, containing: fragment)
            let json = try await runWF(arguments + ["--store", url, "--json"], in: folder)
            let code =
                url.hasPrefix("sqlite:missing")
                ? "store-not-found" : url.hasPrefix("postgres") ? "store-unavailable" : "invalid-store-url"
            expectJSONError(json, code: code)
            #expect(json.stdout.contains(fragment), "\(json)")
            #expect(!run.stderr.contains("s3cret") && !json.stdout.contains("s3cret"))
        }
        try? FileManager.default.removeItem(at: folder)
    }
}

extension WFCommandTests {
    /// Every command reports errors the same way: with --json, only a JSON error object on stdout
    /// and exit 1; a usage error (a wrong option value) exits 64, as JSON too.
    @Test func everyCommandReportsErrorsAsJSONWithItsExitCode() async throws {
        let fixture = try await StoreFixture()
        let missing = UUID().uuidString
        let store = ["--store", fixture.url, "--json"]
        let cases: [([String], String)] = [
            (["run", "no-such-file.json"] + store, "definition-not-found"),
            (["send", "approve", "--definitions", "no-such-folder"] + store, "definition-not-found"),
            (["resume-bookmark", missing, "approve"] + store, "instance-not-found"),
            (["show", missing] + store, "instance-not-found"),
            (["history", missing] + store, "instance-not-found"),
            (["inbox", missing] + store, "instance-not-found"),
            (["rewind", missing, "--to", "1", "--definitions", "no-such-folder"] + store, "definition-not-found"),
            (["recover", missing, "--definitions", "no-such-folder"] + store, "definition-not-found"),
            (["fork", missing, "--from", "1", "--definitions", "no-such-folder"] + store, "definition-not-found"),
            (["suspend", missing] + store, "instance-not-found"),
            (["unsuspend", missing] + store, "instance-not-found"),
            (["terminate", missing] + store, "instance-not-found"),
            (["cancel", missing] + store, "instance-not-found"),
            (["abandon", missing] + store, "instance-not-found"),
            (["delete", missing] + store, "instance-not-found"),
            (["instances", "--store", "nope:x", "--json"], "invalid-store-url"),
            (["purge", "--store", "nope:x", "--json"], "invalid-store-url"),
            (["completion-action", "--store", "nope:x", "--json"], "invalid-store-url"),
        ]
        for (arguments, code) in cases {
            expectJSONError(try await fixture.wf(arguments), code: code)
        }
        for usage in [
            ["instances", "--limit", "0"], ["run", "x.json", "--lock-renewal", "nan"],
            ["run", "x.json", "--time-to-unload", "1e300"], ["send", "op", "--timeout", "-1"],
            ["purge", "--older-than", "soon"], ["suspend", missing, "--wait", "never"],
            ["instances", "--limit", "-3"], ["run", "x.json", "--lock-renewal", "-1"],
            ["show", "zz-not-hex", "--store", fixture.url], ["fork", missing, "--from", "1", "--set", "orderId"],
            ["run", "x.json", "--tracking", "sometimes"], ["serve", "--tracking", "order=most"],
            ["instances", "--continuation", "garbage", "--store", fixture.url],
        ] {
            let run = try await fixture.wf(usage + ["--json"])
            expectJSONError(run, code: "invalid-input", exit: 64)
            let text = try await fixture.wf(usage)
            #expect(text.status == 64, "\(text)")
        }
        // A refused message stores nothing, and a refused send creates no store.
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("wf-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let refused = try await runWF(["send", "submit", "--body", "{}", "--json"], in: empty)
        expectJSONError(refused, code: "definition-not-found")
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.path).isEmpty)
        let definitions = fixture.folder.appendingPathComponent("order.json")
        try Data(StoreFixture.definitionJSON.utf8).write(to: definitions)
        let held = try await fixture.createInstance(orderId: 30)
        let typo = try await fixture.wf(
            "resume-bookmark", held.uuidString, "aprove", "--definitions", definitions.path, "--store", fixture.url,
            "--json")
        expectJSONError(typo, code: "no-route")
        #expect(try await fixture.store.inbox(for: held, pendingOnly: false).isEmpty)
        let notJSON = try await fixture.wf(
            "resume-bookmark", held.uuidString, "approve", "--body", "not json", "--definitions", definitions.path,
            "--store", fixture.url, "--json")
        expectJSONError(notJSON, code: "invalid-input", exit: 64)

        let version = try await fixture.wf("--version")
        #expect(version.status == 0 && !version.stdout.isEmpty)

        // A workflow that faults: the instance is printed, and the exit code is 2.
        let throwing = fixture.folder.appendingPathComponent("throws.json")
        try Data(
            #"{"name": "throws", "version": "1", "body": {"throw": {"message": "'boom'"}}}"#.utf8
        ).write(to: throwing)
        let faulted = try await fixture.wf("run", throwing.path, "--store", fixture.url, "--json")
        #expect(faulted.status == 2, "\(faulted)")
        #expect((try faulted.json() as? [String: Any])?["status"] as? String == "faulted", "\(faulted)")
        let validate = try await fixture.wf("validate", throwing.path, "no-such.json", "--json")
        #expect(validate.status == 1)
        let results = try #require(try validate.json() as? [[String: Any]], "\(validate)")
        #expect(results.map { $0["valid"] as? Bool } == [true, false])
        await fixture.destroy()
    }
}
