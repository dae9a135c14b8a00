import Foundation
import InstanceStoreContract
import SteadfastCore
import SteadfastStore
import Testing

@testable import SteadfastPostgres

@Suite("PostgreSQL schema and connection strings")
struct PostgresSchemaFileTests {
    @Test func embeddedMigrationsMatchSchemaFiles() throws {
        try expectEmbeddedMigrationsMatchSchemaFiles(PostgresSchema.migrations, folder: "postgres")
    }

    @Test(arguments: [
        ("postgres://app:s3cret@db.example:5432/wf", "postgres://app:***@db.example:5432/wf"),
        (
            "postgresql://app:s3cret@db/wf?sslmode=require&password=x",
            "postgresql://app:***@db/wf?sslmode=require&password=***"
        ),
        ("postgres://app@db/wf", "postgres://app@db/wf"),
        ("postgres://app:pa?ss@db/wf", "postgres://app:***@db/wf"),
        ("postgres://app@db/wf?sslpassword=k3y", "postgres://app@db/wf?sslpassword=***"),
        ("postgres:host=db password=a\\ b dbname=wf", "postgres:host=db password=*** dbname=wf"),
        ("postgres:host=db dbname=wf password=s3cret", "postgres:host=db dbname=wf password=***"),
        ("postgres:host=db password = 'a b\\' c' dbname=wf", "postgres:host=db password = *** dbname=wf"),
    ])
    func passwordsAreNeverShown(_ url: String, _ shown: String) throws {
        #expect(try StoreLocation(parsing: url).description == shown)
        #expect(StoreLocation.redacted(url) == shown)
    }

    @Test func aDriverMessageRepeatingThePasswordIsScrubbed() throws {
        let location = try StoreLocation(parsing: "postgres://app:s%3Fcret@db/wf")
        #expect(
            location.scrubbed(#"invalid percent-encoded token: "s%3Fcret""#) == #"invalid percent-encoded token: "***""#
        )
        #expect(location.scrubbed("password s?cret") == "password ***")
    }

    @Test func keywordConnectionStrings() throws {
        #expect(try StoreLocation(parsing: "postgres:service=steadfast") == .postgres(conninfo: "service=steadfast"))
        #expect(
            try StoreLocation(parsing: "postgresql:host=db password=x").description == "postgres:host=db password=***")
        let error = #expect(throws: InstanceStoreError.self) { try StoreLocation(parsing: "postgres:db.example") }
        #expect(error?.code == .invalidStoreURL)
    }

    @Test func aWrongConnectionStringIsAClearErrorWithoutThePassword() async {
        let error = await #expect(throws: InstanceStoreError.self) {
            try await PostgresInstanceStore(url: "postgres://app:s3cret@127.0.0.1:1/wf?connect_timeout=2")
        }
        #expect(error?.code == .storeUnavailable)
        #expect(error?.message.contains("127.0.0.1") == true)
        #expect(error?.message.contains("s3cret") == false, "\(error?.message ?? "")")
        #expect(error?.message.contains("***") == true)
    }

    @Test func placeholdersAreNumberedOutsideQuotes() {
        #expect(
            PostgresConnection.numbered("SELECT ? FROM t WHERE a = '?' AND b = ? AND \"c?\" = ?")
                == "SELECT $1 FROM t WHERE a = '?' AND b = $2 AND \"c?\" = $3")
    }
}

@Suite("PostgreSQL store", .enabled(if: PostgresTestServer.enabled))
struct PostgresStoreTests {
    @Test func hostsStartingTogetherMigrateOnceAndANewerSchemaIsRefused() async throws {
        let database = try PostgresContractDatabase()
        let stores = try await withThrowingTaskGroup(of: PostgresInstanceStore.self) { group in
            for _ in 0..<8 { group.addTask { try await database.openPostgresStore() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 8)
        #expect(try await stores[0].schemaVersions() == Array(1...PostgresSchema.latestVersion))
        try database.direct {
            try $0.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)", [])
        }
        let error = await #expect(throws: InstanceStoreError.self) { try await database.openPostgresStore() }
        #expect(error?.code == .migrationFailed)
        #expect(error?.message.contains("upgrade Steadfast") == true)
        await database.destroy()
    }

    @Test func anotherHostsEnqueueWakesAWaiterAtOnce() async throws {
        let database = try PostgresContractDatabase()
        let holder = try await database.openPostgresStore()
        let sender = try await database.openPostgresStore()
        let owner = try await holder.createLockOwner(hostID: "holder", lockDuration: .seconds(60))
        let record = try await holder.createInstance(
            CreateInstanceRequest(
                owner: owner.id, definition: DefinitionIdentity(name: "d", version: "1", fingerprint: "f"),
                snapshot: InstanceSnapshot(state: Data("{}".utf8), status: .idle, bookmarks: ["go"])))
        let token = try await holder.lookForWork(since: -1, definitions: nil).token
        #expect(try await holder.lookForWork(since: token, definitions: nil).changed == false)
        let clock = ContinuousClock()
        let began = clock.now
        async let woke: Void = holder.waitForChange(since: token, timeout: .seconds(10))
        try await Task.sleep(for: .milliseconds(100))
        _ = try await sender.enqueueMessage(for: record.id, operation: "go", body: Data("1".utf8))
        await woke
        let waited = clock.now - began
        #expect(waited < .seconds(5), "the notification did not end the wait (waited \(waited))")
        #expect(try await holder.lookForWork(since: token, definitions: nil).changed)
        #expect(try await holder.pendingInbox(lockedBy: owner.id, after: 0).count == 1)
        await database.destroy()
    }

    @Test func theStoreReconnectsAfterTheServerRestarts() async throws {
        // A server of its own: restarting the shared one would cut the other tests' connections.
        let server = try PrivatePostgresServer()
        defer { server.stop() }
        let store = try await PostgresInstanceStore(url: try server.createDatabase())
        let owner = try await store.createLockOwner(hostID: "h", lockDuration: .seconds(60))
        try server.restart()
        // The first operation on each dead connection may fail (it was in flight when the server
        // went away); the pool reconnects, and the store goes on.
        var renewed: LockOwner?
        for _ in 0..<50 where renewed == nil {
            do {
                renewed = try await store.renewLockOwner(owner.id)
            } catch let error as InstanceStoreError {
                #expect(error.code == .storeUnavailable, "\(error)")
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(renewed?.id == owner.id)
        #expect(try await store.listInstances(InstanceQuery(limit: 10)).isEmpty)
        await store.close()
    }
}
