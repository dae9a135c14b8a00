/// A statement and its parameters, for sending without waiting (see `SQLSession.pipeline`).
public struct SQLStatement: Sendable, Hashable {
    public var sql: String
    public var parameters: [SQLValue]

    public init(_ sql: String, _ parameters: [SQLValue] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

/// A command written as statements that need no answer from the database to be sent, and what
/// their results mean: the command's result, or nil when the command must run the usual way
/// instead (its statements' effects are rolled back first). With a server database, a worker
/// sends the statements of several such commands in one round trip.
public struct SQLPipelined<T: Sendable>: Sendable {
    public var statements: [SQLStatement]
    public var finish: @Sendable ([[SQLRow]]) throws -> T?

    public init(statements: [SQLStatement], finish: @escaping @Sendable ([[SQLRow]]) throws -> T?) {
        self.statements = statements
        self.finish = finish
    }
}
