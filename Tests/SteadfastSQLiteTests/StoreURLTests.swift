import Foundation
import SteadfastCore
import SteadfastSQLite
import SteadfastStore
import Testing

@Suite("Store URLs")
struct StoreURLTests {
    @Test(arguments: [
        ("sqlite:instances.db", StoreLocation.sqliteFile(path: "instances.db")),
        ("sqlite:/var/lib/steadfast/instances.db", .sqliteFile(path: "/var/lib/steadfast/instances.db")),
        ("sqlite:./data/x.db", .sqliteFile(path: "./data/x.db")),
        (" sqlite::memory: ", .sqliteMemory),
        ("postgres://app@db.example/steadfast", .postgres(conninfo: "postgres://app@db.example/steadfast")),
        ("postgresql://localhost/steadfast", .postgres(conninfo: "postgresql://localhost/steadfast")),
    ])
    func validURLs(_ url: String, _ expected: StoreLocation) throws {
        #expect(try StoreLocation(parsing: url) == expected)
    }

    @Test(arguments: [
        "", "instances.db", "sqlite:", "sqlite://tmp/x.db", "sqlite:/tmp/dir/", "mysql://x/y", "postgres://",
    ])
    func malformedURLs(_ url: String) {
        let error = #expect(throws: InstanceStoreError.self) { try StoreLocation(parsing: url) }
        #expect(error?.code == .invalidStoreURL)
        #expect(error?.message.contains("sqlite:PATH") == true)
    }

    @Test func sqliteStoreRefusesPostgresURLAndUnreachablePath() async {
        let postgres = await #expect(throws: InstanceStoreError.self) {
            try await SQLiteInstanceStore(url: "postgres://localhost/steadfast")
        }
        #expect(postgres?.code == .invalidStoreURL)
        let missing = await #expect(throws: InstanceStoreError.self) {
            try await SQLiteInstanceStore(url: "sqlite:/nonexistent-\(UUID().uuidString)/instances.db")
        }
        #expect(missing?.code == .storeUnavailable)
        #expect(missing?.message.contains("directory exists") == true)
    }
}
