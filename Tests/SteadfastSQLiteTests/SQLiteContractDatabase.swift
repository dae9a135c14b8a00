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
        let changed = try await store.writer.write { db in
            try db.execute(
                "UPDATE instances SET state = ?, state_encoding = ? WHERE id = ?",
                [.blob(bytes), .text(encoding), .text(id.uuidString.lowercased())]
            )
        }
        #expect(changed == 1)
    }

    func overwriteStoredStatus(of id: UUID, status: String) async throws {
        let store = try await openSQLiteStore()
        let changed = try await store.writer.write { db in
            try db.execute(
                "UPDATE instances SET status = ? WHERE id = ?", [.text(status), .text(id.uuidString.lowercased())])
        }
        #expect(changed == 1)
    }

    func storedRow(of id: UUID) async throws -> StoredRow? {
        let store = try await openSQLiteStore()
        return try await store.writer.write { db -> StoredRow? in
            let key = SQLValue.text(id.uuidString.lowercased())
            guard
                let row = try db.query(
                    "SELECT state, state_encoding, status, claims_since_save FROM instances WHERE id = ?", [key]
                ).first,
                case .text(let encoding) = row[1], case .text(let status) = row[2], case .integer(let claims) = row[3]
            else { return nil }
            var state = Data()
            if case .blob(let bytes) = row[0] { state = bytes }
            guard
                case .integer(let bookmarks)? = try db.query(
                    "SELECT COUNT(*) FROM bookmarks WHERE instance_id = ?", [key]
                ).first?[0]
            else { return nil }
            return StoredRow(
                state: state, stateEncoding: encoding, status: status, bookmarkCount: Int(bookmarks),
                claimsSinceSave: Int(claims))
        }
    }

    func lockOwnerIDs() async throws -> Set<UUID> {
        let store = try await openSQLiteStore()
        return try await store.writer.write { db in
            Set(
                try db.query("SELECT id FROM lock_owners", []).compactMap { row -> UUID? in
                    guard case .text(let id) = row[0] else { return nil }
                    return UUID(uuidString: id)
                })
        }
    }

    func destroy() async {
        for store in stores.withLock({ $0 }) { await store.close() }
        try? FileManager.default.removeItem(at: directory)
    }
}
