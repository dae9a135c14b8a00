import CSQLite
import Foundation
import SteadfastStore

/// One sqlite3 connection with a prepared-statement cache.
///
/// Not thread-safe: a `SQLWorker` owns it and uses it from its one thread only.
final class SQLiteConnection: SQLSession {
    let handle: OpaquePointer
    let dialect: any SQLDialect = SQLiteDialect()
    private var statements: [String: OpaquePointer] = [:]

    /// Opens (creating if needed) the database at `path` (":memory:" for a private in-memory one).
    init(path: String) throws {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &db, flags, nil)
        guard status == SQLITE_OK, let db else {
            let detail = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw InstanceStoreError(
                .storeUnavailable,
                "Cannot open the SQLite database at '\(path)': \(detail). Check that the directory "
                    + "exists and is writable."
            )
        }
        self.handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    private var isClosed = false

    deinit {
        close()
    }

    /// Finalizes the cached statements and closes the database; later calls fail.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        for statement in statements.values { sqlite3_finalize(statement) }
        statements = [:]
        sqlite3_close_v2(handle)
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        guard !isClosed else { throw SQLDriverError(.other, "the SQLite connection is closed") }
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        try bind(parameters, to: statement, sql: sql)
        var rows: [SQLRow] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { throw error(status, sql: sql) }
            rows.append(SQLRow(readColumns(of: statement)))
        }
        return rows
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        _ = try query(sql, parameters)
        return Int(sqlite3_changes(handle))
    }

    /// Runs one or more statements without parameters (migrations, pragmas, BEGIN/COMMIT).
    func executeScript(_ sql: String) throws {
        guard !isClosed else { throw SQLDriverError(.other, "the SQLite connection is closed") }
        var message: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &message)
        guard status == SQLITE_OK else {
            let detail = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(status))
            sqlite3_free(message)
            throw SQLiteConnection.driverError(status, detail)
        }
    }

    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw error(status, sql: sql) }
        statements[sql] = statement
        return statement
    }

    private func bind(_ parameters: [SQLValue], to statement: OpaquePointer, sql: String) throws {
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .null:
                status = sqlite3_bind_null(statement, index)
            case .integer(let number):
                status = sqlite3_bind_int64(statement, index, number)
            case .text(let text):
                status = sqlite3_bind_text(statement, index, text, -1, steadfast_sqlite_transient())
            case .blob(let data):
                status = data.withUnsafeBytes { bytes in
                    // A zero-length blob still needs a non-null pointer to be a blob, not NULL.
                    sqlite3_bind_blob64(
                        statement,
                        index,
                        bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1),
                        sqlite3_uint64(bytes.count),
                        steadfast_sqlite_transient()
                    )
                }
            }
            guard status == SQLITE_OK else { throw error(status, sql: sql) }
        }
    }

    private func readColumns(of statement: OpaquePointer) -> [SQLValue] {
        (0..<sqlite3_column_count(statement)).map { column in
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER:
                return .integer(sqlite3_column_int64(statement, column))
            case SQLITE_TEXT:
                return .text(String(cString: sqlite3_column_text(statement, column)))
            case SQLITE_BLOB:
                let count = Int(sqlite3_column_bytes(statement, column))
                guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return .blob(Data()) }
                return .blob(Data(bytes: bytes, count: count))
            case SQLITE_FLOAT:
                return .integer(Int64(sqlite3_column_double(statement, column)))
            default:
                return .null
            }
        }
    }

    private func error(_ status: Int32, sql: String) -> SQLDriverError {
        let detail = String(cString: sqlite3_errmsg(handle))
        let statement = sql.split(whereSeparator: \.isNewline).first.map(String.init) ?? sql
        return Self.driverError(status, "\(detail) (in: \(statement))")
    }

    static func driverError(_ status: Int32, _ detail: String) -> SQLDriverError {
        switch status & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return SQLDriverError(.busy, detail)
        case SQLITE_FULL:
            return SQLDriverError(.diskFull, "SQLite error \(status): \(detail)")
        case SQLITE_IOERR:
            return SQLDriverError(.ioError, "SQLite error \(status): \(detail)")
        case SQLITE_READONLY:
            return SQLDriverError(.readOnly, "SQLite error \(status): \(detail)")
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return SQLDriverError(.corrupt, "SQLite error \(status): \(detail)")
        case SQLITE_CONSTRAINT
        where status == steadfast_sqlite_constraint_unique || status == steadfast_sqlite_constraint_primarykey:
            return SQLDriverError(.uniqueViolation, detail)
        default:
            return SQLDriverError(.other, "SQLite error \(status): \(detail)")
        }
    }
}
