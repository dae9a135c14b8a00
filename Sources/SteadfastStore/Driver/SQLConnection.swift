/// The driver seam: the few things the shared store logic needs from a database connection.
///
/// Statements are written with `?` positional placeholders; a driver whose database spells
/// them differently (`$1` in PostgreSQL) rewrites them (see `SQLDialect`). A connection is
/// used by one thread at a time; stores own the serialization.
public protocol SQLConnection: AnyObject {
    /// The database's spelling of the few things that differ.
    var dialect: any SQLDialect { get }

    /// Runs a statement that returns rows.
    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow]

    /// Runs a statement that returns no rows; the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int
}

extension SQLConnection {
    /// The first row of a query, if any.
    func queryFirst(_ sql: String, _ parameters: [SQLValue]) throws -> SQLRow? {
        try query(sql, parameters).first
    }
}
