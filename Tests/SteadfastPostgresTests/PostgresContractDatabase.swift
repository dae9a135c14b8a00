import Foundation
import InstanceStoreContract
import SteadfastCore
import SteadfastStore
import Synchronization
import Testing

@testable import SteadfastPostgres

/// A fresh database on the test server for one test; stores opened on it are closed, and the
/// database dropped, by `destroy()`.
final class PostgresContractDatabase: ContractDatabase {
    let name: String
    let url: String
    private let stores = Mutex<[PostgresInstanceStore]>([])

    init() throws {
        (name, url) = try PostgresTestServer.createDatabase()
    }

    func openStore(options: InstanceStoreOptions) async throws -> any InstanceStore {
        try await openPostgresStore(options: options)
    }

    func openPostgresStore(
        options: InstanceStoreOptions = InstanceStoreOptions(),
        postgresOptions: PostgresStoreOptions = PostgresStoreOptions(writeConnections: 2, readConnections: 1)
    ) async throws -> PostgresInstanceStore {
        let store = try await PostgresInstanceStore(url: url, options: options, postgresOptions: postgresOptions)
        stores.withLock { $0.append(store) }
        return store
    }

    /// Runs `body` on a connection of its own, behind the stores' backs.
    func direct<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try PostgresConnection(conninfo: url)
        defer { connection.close() }
        return try body(connection)
    }

    func overwriteStoredState(of id: UUID, bytes: Data, encoding: String) async throws {
        let changed = try direct {
            try $0.execute(
                "UPDATE instances SET state = ?, state_encoding = ? WHERE id = ?",
                [.blob(bytes), .text(encoding), .text(id.uuidString.lowercased())])
        }
        #expect(changed == 1)
    }

    func overwriteStoredStatus(of id: UUID, status: String) async throws {
        let changed = try direct {
            try $0.execute(
                "UPDATE instances SET status = ? WHERE id = ?", [.text(status), .text(id.uuidString.lowercased())])
        }
        #expect(changed == 1)
    }

    func storedRow(of id: UUID) async throws -> StoredRow? {
        try direct { db -> StoredRow? in
            let key = SQLValue.text(id.uuidString.lowercased())
            guard
                let row = try db.query(
                    """
                    SELECT state, state_encoding, status, claims_since_save,
                        (SELECT COUNT(*) FROM bookmarks WHERE instance_id = $1) FROM instances WHERE id = $1
                    """, [key]
                ).first,
                case .blob(let state) = row[0], case .text(let encoding) = row[1], case .text(let status) = row[2],
                case .integer(let claims) = row[3], case .integer(let bookmarks) = row[4]
            else { return nil }
            return StoredRow(
                state: state, stateEncoding: encoding, status: status, bookmarkCount: Int(bookmarks),
                claimsSinceSave: Int(claims))
        }
    }

    func lockOwnerIDs() async throws -> Set<UUID> {
        try direct { db in
            Set(
                try db.query("SELECT id FROM lock_owners", []).compactMap { row -> UUID? in
                    guard case .text(let id) = row[0] else { return nil }
                    return UUID(uuidString: id)
                })
        }
    }

    func destroy() async {
        for store in stores.withLock({ $0 }) { await store.close() }
        PostgresTestServer.dropDatabase(name)
    }
}
