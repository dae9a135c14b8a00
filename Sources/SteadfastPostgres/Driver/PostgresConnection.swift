import CLibPQ
import Foundation
import SteadfastStore

/// One libpq connection: statements prepared once per connection, every parameter bound in
/// binary form (never spliced into SQL), results read in binary form. Statements deferred with
/// `deferStatement` (a transaction's BEGIN, a savepoint) go out in one pipeline with the next
/// statement, so they cost no round trip of their own.
///
/// Not thread-safe: a `SQLWorker` (or the listener) owns it and uses it from one thread only.
final class PostgresConnection: SQLSession {
    let dialect: any SQLDialect = PostgresDialect()
    private let conninfo: String
    private var handle: OpaquePointer?
    /// Prepared statement names by SQL text and parameter types.
    private var statements: [String: String] = [:]
    /// Statements without parameters waiting to be sent ahead of the next one.
    private var deferred: [String] = []

    /// Session settings applied on every (re)connection.
    private let setup: String?

    /// Connects with a libpq connection string (keyword/value or URI), then runs `setup`.
    init(conninfo: String, setup: String? = nil) throws {
        self.conninfo = conninfo
        self.setup = setup
        self.handle = try Self.connect(conninfo)
        if let setup { try executeScript(setup) }
    }

    deinit { close() }

    /// Settings every connection gets unless the connection string says otherwise: TCP
    /// keepalives, so a peer that vanished (a cut network, a frozen server) is noticed in about
    /// 25 s rather than hours (the listener idles on its socket; a silent one would never
    /// notice), and a connect timeout.
    static let defaults: [(String, String)] = [
        ("keepalives", "1"), ("keepalives_idle", "10"), ("keepalives_interval", "5"), ("keepalives_count", "3"),
        ("connect_timeout", "10"), ("application_name", "steadfast"),
    ]

    static func connect(_ conninfo: String) throws -> OpaquePointer {
        // The defaults first, then the connection string expanded in place of `dbname`: what it
        // sets overrides them.
        let pairs = defaults + [("dbname", conninfo)]
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer { for pointer in keywords + values { free(pointer) } }
        let connection = (keywords.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { keywordList in
            (values.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { valueList in
                PQconnectdbParams(keywordList.baseAddress, valueList.baseAddress, 1)
            }
        }
        guard let connection else {
            throw SQLDriverError(.connectionLost, "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.message(PQerrorMessage(connection))
            PQfinish(connection)
            throw SQLDriverError(.connectionLost, message)
        }
        steadfast_pg_silence_notices(connection)
        return connection
    }

    func close() {
        if let handle { PQfinish(handle) }
        handle = nil
        statements = [:]
        deferred = []
    }

    /// The raw connection, for the listener's socket and notifications.
    var connection: OpaquePointer? { handle }

    var isBroken: Bool { handle.map { PQstatus($0) != CONNECTION_OK } ?? true }

    @discardableResult
    func reconnectIfNeeded() throws -> Bool {
        guard isBroken else { return false }
        close()
        handle = try Self.connect(conninfo)
        if let setup { try executeScript(setup) }
        return true
    }

    var isInTransaction: Bool {
        sendDeferred()
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    var isTransactionFailed: Bool {
        sendDeferred()
        return handle.map { PQtransactionStatus($0) == PQTRANS_INERROR } ?? false
    }

    /// One statement (no `;`) runs prepared, in a pipeline after any deferred ones; a script of
    /// several runs as a simple query.
    func executeScript(_ sql: String) throws {
        guard sql.contains(";") else {
            PQclear(try run(sql, []))
            return
        }
        let handle = try live()
        sendDeferred()
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result, sql: sql)
    }

    func deferStatement(_ sql: String) throws {
        precondition(!sql.contains(";"), "a deferred statement is a single statement")
        deferred.append(sql)
    }

    /// Runs the deferred statements now, when no statement follows them (a job that failed
    /// before reaching the database). Their error, if any, shows in the transaction status.
    private func sendDeferred() {
        guard let last = deferred.popLast() else { return }
        _ = try? executeScript(last)
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        return try rows(of: result, sql: sql)
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    // MARK: Statements

    private func live() throws -> OpaquePointer {
        guard let handle else { throw SQLDriverError(.connectionLost, "the PostgreSQL connection is closed") }
        return handle
    }

    /// Runs a prepared statement (preparing it on first use), after the deferred statements in
    /// one pipeline if there are any; the caller clears the result.
    private func run(_ sql: String, _ parameters: [SQLValue]) throws -> OpaquePointer {
        let handle = try live()
        guard deferred.isEmpty else {
            var results = try sendPipeline([SQLStatement(sql, parameters)], on: handle)
            let last = results.removeLast()
            results.forEach(PQclear)
            return last
        }
        let name = try prepared(sql, types: parameters.map(Self.type), on: handle)
        let result = Self.withBound(parameters) { count, values, lengths, formats in
            PQexecPrepared(handle, name, count, values, lengths, formats, 1)
        }
        guard let result else { throw failure(nil, sql: sql) }
        do {
            try check(result, sql: sql)
        } catch {
            PQclear(result)
            throw error
        }
        return result
    }

    var pipelinesStatements: Bool { true }

    func pipeline(_ statements: [SQLStatement]) throws -> [[SQLRow]] {
        let results = try sendPipeline(statements, on: try live())
        defer { results.forEach(PQclear) }
        return try zip(results.suffix(statements.count), statements).map { try rows(of: $0, sql: $1.sql) }
    }

    /// The name of the statement prepared for `sql` with parameters of `types`.
    private func prepared(_ sql: String, types: [Oid], on handle: OpaquePointer) throws -> String {
        let key = types.map(String.init).joined(separator: ",") + ":" + sql
        if let known = statements[key] { return known }
        let name = "steadfast_\(statements.count + 1)"
        let prepared = PQprepare(handle, name, Self.numbered(sql), Int32(types.count), types)
        defer { PQclear(prepared) }
        try check(prepared, sql: sql)
        statements[key] = name
        return name
    }

    /// Sends the deferred statements and then `statements` in one pipeline (one round trip),
    /// and returns every result, the deferred ones' first; the caller clears them. Throws the
    /// first error (the server skips the statements after it). A connection that fails
    /// mid-pipeline is closed, to be re-established.
    private func sendPipeline(_ statements: [SQLStatement], on handle: OpaquePointer) throws -> [OpaquePointer] {
        let all = deferred.map { SQLStatement($0) } + statements
        deferred = []
        // Statements are prepared first: preparing is not allowed in pipeline mode.
        let names = try all.map { try prepared($0.sql, types: $0.parameters.map(Self.type), on: handle) }
        guard PQenterPipelineMode(handle) == 1 else { throw failure(nil, sql: all[0].sql) }
        for (statement, name) in zip(all, names) {
            let sent = Self.withBound(statement.parameters) { count, values, lengths, formats in
                PQsendQueryPrepared(handle, name, count, values, lengths, formats, 1)
            }
            guard sent == 1 else { throw abandon(sql: statement.sql) }
        }
        guard PQpipelineSync(handle) == 1 else { throw abandon(sql: all[0].sql) }
        var firstError: SQLDriverError?
        var results: [OpaquePointer] = []
        for statement in all {
            guard let result = PQgetResult(handle) else {
                results.forEach(PQclear)
                throw abandon(sql: statement.sql)
            }
            switch PQresultStatus(result) {
            case PGRES_PIPELINE_ABORTED: PQclear(result)
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY: results.append(result)
            default:
                if firstError == nil { firstError = failure(result, sql: statement.sql) }
                PQclear(result)
            }
            while let extra = PQgetResult(handle) { PQclear(extra) }  // each statement's results end with NULL
        }
        guard let sync = PQgetResult(handle), PQresultStatus(sync) == PGRES_PIPELINE_SYNC else {
            results.forEach(PQclear)
            let lost = abandon(sql: all[0].sql)
            throw firstError ?? lost
        }
        PQclear(sync)
        PQexitPipelineMode(handle)
        if let firstError {
            results.forEach(PQclear)
            throw firstError
        }
        return results
    }

    /// Closes a connection whose pipeline went wrong (it cannot be used again as it is); the
    /// next transaction re-establishes it.
    private func abandon(sql: String) -> SQLDriverError {
        let error = SQLDriverError(
            .connectionLost, "\(Self.message(handle.map(PQerrorMessage) ?? nil)) (in a pipeline, at: \(sql))")
        close()
        return error
    }

    /// Calls `body` with the parameters in libpq's form: their count, C pointers to their
    /// binary bytes (nil for NULL), their lengths and formats (all binary).
    private static func withBound<R>(
        _ parameters: [SQLValue],
        _ body: (Int32, [UnsafePointer<CChar>?], [Int32], [Int32]) -> R
    ) -> R {
        let encoded = parameters.map(binary)
        var buffers: [UnsafeMutablePointer<CChar>?] = []
        defer { for buffer in buffers { buffer?.deallocate() } }
        for value in encoded {
            guard let value else {
                buffers.append(nil)
                continue
            }
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, value.count))
            value.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress {
                    UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: bytes.count)
                }
            }
            buffers.append(buffer)
        }
        return body(
            Int32(encoded.count), buffers.map { $0.map { UnsafePointer($0) } }, encoded.map { Int32($0?.count ?? 0) },
            [Int32](repeating: 1, count: encoded.count))
    }

    private func check(_ result: OpaquePointer?, sql: String) throws {
        guard let result else { throw failure(nil, sql: sql) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY: return
        default: throw failure(result, sql: sql)
        }
    }

    private func failure(_ result: OpaquePointer?, sql: String) -> SQLDriverError {
        let statement = sql.split(whereSeparator: \.isNewline).first.map(String.init) ?? sql
        guard let result else {
            return SQLDriverError(.connectionLost, Self.message(handle.map(PQerrorMessage) ?? nil))
        }
        let state = PQresultErrorField(result, steadfast_pg_diag_sqlstate).map { String(cString: $0) } ?? ""
        let detail = "\(Self.message(PQresultErrorMessage(result))) (SQLSTATE \(state), in: \(statement))"
        if isBroken { return SQLDriverError(.connectionLost, detail) }
        return SQLDriverError(Self.kind(of: state), detail)
    }

    static func kind(of state: String) -> SQLDriverError.Kind {
        switch state {
        case "23505": .uniqueViolation
        case "40P01", "40001", "55P03": .conflict
        case "53100": .diskFull
        case "58030": .ioError
        case "25006": .readOnly
        case "XX001", "XX002": .corrupt
        case "57P01", "57P02", "57P03": .connectionLost
        case _ where state.hasPrefix("08"): .connectionLost
        default: .other
        }
    }

    static func message(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "unknown error" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "\n", with: "; ").replacingOccurrences(of: "\t", with: " ")
    }

    // MARK: Values

    static func type(of value: SQLValue) -> Oid {
        switch value {
        case .null: 0
        case .integer: 20  // int8
        case .text: 25  // text
        case .blob: 17  // bytea
        }
    }

    /// A parameter's binary form: int8 big-endian, text as its UTF-8, bytea as is.
    static func binary(_ value: SQLValue) -> [UInt8]? {
        switch value {
        case .null: nil
        case .integer(let number): withUnsafeBytes(of: number.bigEndian) { Array($0) }
        case .text(let text): Array(text.utf8)
        case .blob(let data): Array(data)
        }
    }

    private func rows(of result: OpaquePointer, sql: String) throws -> [SQLRow] {
        let count = PQntuples(result)
        let columns = PQnfields(result)
        guard count > 0 else { return [] }
        let types = (0..<columns).map { PQftype(result, $0) }
        var rows: [SQLRow] = []
        rows.reserveCapacity(Int(count))
        for row in 0..<count {
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columns))
            for column in 0..<columns {
                guard PQgetisnull(result, row, column) == 0, let raw = PQgetvalue(result, row, column) else {
                    values.append(.null)
                    continue
                }
                let bytes = UnsafeRawBufferPointer(start: raw, count: Int(PQgetlength(result, row, column)))
                values.append(try Self.value(bytes, type: types[Int(column)], sql: sql))
            }
            rows.append(SQLRow(values))
        }
        return rows
    }

    static func value(_ bytes: UnsafeRawBufferPointer, type: Oid, sql: String) throws -> SQLValue {
        func integer<T: FixedWidthInteger>(_: T.Type) -> Int64 {
            var number: T = 0
            withUnsafeMutableBytes(of: &number) {
                $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(MemoryLayout<T>.size)))
            }
            return Int64(T(bigEndian: number))
        }
        switch type {
        case 20: return .integer(integer(Int64.self))
        case 23: return .integer(integer(Int32.self))
        case 21: return .integer(integer(Int16.self))
        case 16: return .integer(bytes.first == 0 ? 0 : 1)
        case 25, 1043, 1042, 19: return .text(String(decoding: bytes, as: UTF8.self))
        case 17: return .blob(Data(bytes))
        default:
            throw SQLDriverError(
                .other, "PostgreSQL returned a column of type oid \(type), which the store does not read (in: \(sql))")
        }
    }

    /// The statement with `?` placeholders numbered `$1`, `$2`, … (outside quoted text).
    static func numbered(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count + 16)
        var number = 0
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                output.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                output.append(character)
            } else if character == "?" {
                number += 1
                output += "$\(number)"
            } else {
                output.append(character)
            }
        }
        return output
    }
}

/// PostgreSQL's spelling of what differs: concurrent writers, so rows are locked.
struct PostgresDialect: SQLDialect {
    var claimRowsSuffix: String { " FOR UPDATE OF i SKIP LOCKED" }
    var lockRowSuffix: String { " FOR UPDATE OF i" }
    var modifyingCommonTableExpressions: Bool { true }
}
