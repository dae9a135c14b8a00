import Foundation
import Testing

@testable import SteadfastSQLite
@testable import SteadfastStore

/// Errors name their real cause: a full disk is not "check that the store is reachable".
@Suite struct DriverErrorTests {
    @Test func aFullDatabaseSaysSo() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-full-\(UUID()).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let connection = try SQLiteConnection(path: path)
        defer { connection.close() }
        _ = try connection.execute("CREATE TABLE t (x BLOB)", [])
        // The database may not grow past its current size: the next big insert finds it full.
        let pages = try #require(try connection.queryFirst("PRAGMA page_count", [])).int(0)
        _ = try connection.query("PRAGMA max_page_count = \(pages + 1)", [])
        do {
            _ = try connection.execute("INSERT INTO t VALUES (?)", [.blob(Data(count: 1_000_000))])
            Issue.record("the insert into a full database succeeded")
        } catch let error as SQLDriverError {
            let message = error.storeError.message
            #expect(message.contains("disk holding the database is full"), "\(message)")
            #expect(!message.contains("reachable"))
        }
    }

    @Test func eachCauseHasItsOwnMessage() {
        // SQLite's primary result codes: IOERR 10, READONLY 8, CORRUPT 11, NOTADB 26.
        for (status, words) in [
            (10, "I/O error"), (8, "can only be read"), (11, "damaged"), (26, "damaged"), (13, "is full"),
        ] as [(Int32, String)] {
            let message = SQLiteConnection.driverError(status, "detail").storeError.message
            #expect(message.contains(words), "\(status): \(message)")
        }
    }
}
