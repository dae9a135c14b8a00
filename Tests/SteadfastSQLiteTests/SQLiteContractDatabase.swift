import Foundation
import InstanceStoreContract
import SteadfastCore
import SteadfastStore
import Synchronization
import Testing

@testable import SteadfastSQLite

/// A temporary SQLite file for one test; stores opened on it are closed by `destroy()`.
final class SQLiteContractDatabase: ContractDatabase {
    let directory: URL
    let path: String
    private let stores = Mutex<[SQLiteInstanceStore]>([])

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("steadfast-sqlite-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("instances.db").path
    }

    var url: String { "sqlite:\(path)" }

    func openStore(options: InstanceStoreOptions) async throws -> any InstanceStore {
        try await openSQLiteStore(options: options)
    }

    func openSQLiteStore(
        options: InstanceStoreOptions = InstanceStoreOptions(),
        sqliteOptions: SQLiteStoreOptions = SQLiteStoreOptions()
    ) async throws -> SQLiteInstanceStore {
        let store = try await SQLiteInstanceStore(url: url, options: options, sqliteOptions: sqliteOptions)
        stores.withLock { $0.append(store) }
        return store
    }

    func overwriteStoredState(of id: UUID, bytes: Data, encoding: String) async throws {
        let store = try await openSQLiteStore()
        let changed = try await store.worker.write { db in
            try db.execute(
                "UPDATE instances SET state = ?, state_encoding = ? WHERE id = ?",
                [.blob(bytes), .text(encoding), .text(id.uuidString.lowercased())]
            )
        }
        #expect(changed == 1)
    }

    func destroy() async {
        for store in stores.withLock({ $0 }) { await store.close() }
        try? FileManager.default.removeItem(at: directory)
    }
}
