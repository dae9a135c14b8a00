import Foundation
import InstanceStoreContract
import SteadfastCore
import SteadfastStore
import Testing

@testable import SteadfastSQLite

@Suite("SQLite schema and pragmas")
struct SQLiteSchemaTests {
    @Test func embeddedMigrationsMatchSchemaFiles() throws {
        try expectEmbeddedMigrationsMatchSchemaFiles(SQLiteSchema.migrations, folder: "sqlite")
    }

    @Test func migrationsApplyOnceAndReopenIsIdempotent() async throws {
        let database = try SQLiteContractDatabase()
        defer { try? FileManager.default.removeItem(at: database.directory) }
        #expect(!FileManager.default.fileExists(atPath: database.path))
        let first = try await database.openSQLiteStore()
        #expect(FileManager.default.fileExists(atPath: database.path), "the file is created on first use")
        let owner = try await first.createLockOwner(hostID: "h", lockDuration: .seconds(60))
        let record = try await first.createInstance(
            CreateInstanceRequest(
                owner: owner.id,
                definition: DefinitionIdentity(name: "d", version: "1", fingerprint: "test"),
                snapshot: InstanceSnapshot(state: Data([1, 2, 3]), status: .idle)
            )
        )
        await first.close()

        let second = try await database.openSQLiteStore()
        let third = try await database.openSQLiteStore()
        let diagnostics = try await second.diagnostics()
        #expect(diagnostics.schemaVersions == Array(1...SQLiteSchema.latestVersion))
        #expect(try await third.diagnostics().schemaVersions == diagnostics.schemaVersions)
        // The data survived the reopen.
        #expect(try await third.readInstance(record.id).state == Data([1, 2, 3]))
        await database.destroy()
    }

    @Test func newerSchemaIsRefused() async throws {
        let database = try SQLiteContractDatabase()
        let store = try await database.openSQLiteStore()
        _ = try await store.writer.write { db in
            try db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)", [])
        }
        let error = await #expect(throws: InstanceStoreError.self) { try await database.openSQLiteStore() }
        #expect(error?.code == .migrationFailed)
        #expect(error?.message.contains("upgrade Steadfast") == true)
        await database.destroy()
    }

    @Test func durableDefaultsAndNormalOption() async throws {
        let database = try SQLiteContractDatabase()
        let full = try await database.openSQLiteStore()
        let fullDiagnostics = try await full.diagnostics()
        #expect(fullDiagnostics.journalMode == "wal")
        #expect(fullDiagnostics.synchronous == 2)
        #expect(fullDiagnostics.busyTimeoutMilliseconds == 10_000)

        let normal = try await database.openSQLiteStore(
            sqliteOptions: SQLiteStoreOptions(synchronous: .normal, busyTimeout: .seconds(2))
        )
        let normalDiagnostics = try await normal.diagnostics()
        #expect(normalDiagnostics.journalMode == "wal")
        #expect(normalDiagnostics.synchronous == 1)
        #expect(normalDiagnostics.busyTimeoutMilliseconds == 2_000)
        await database.destroy()
    }

    @Test func inMemoryStoreWorks() async throws {
        let store = try await SQLiteInstanceStore(url: "sqlite::memory:")
        let owner = try await store.createLockOwner(hostID: "h", lockDuration: .seconds(60))
        let record = try await store.createInstance(
            CreateInstanceRequest(
                owner: owner.id,
                definition: DefinitionIdentity(name: "d", version: "1", fingerprint: "test"),
                snapshot: InstanceSnapshot(state: Data("x".utf8), status: .running)
            )
        )
        #expect(try await store.readInstance(record.id).state == Data("x".utf8))
        #expect(try await store.diagnostics().journalMode == "memory")
        await store.close()
        let error = await #expect(throws: InstanceStoreError.self) { try await store.readInstance(record.id) }
        #expect(error?.code == .storeUnavailable)
    }
}
