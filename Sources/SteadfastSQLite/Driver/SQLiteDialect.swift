import SteadfastStore

/// SQLite's spelling of what differs: write transactions are serialized by `BEGIN IMMEDIATE`,
/// so claiming rows needs no `FOR UPDATE SKIP LOCKED`.
struct SQLiteDialect: SQLDialect {
    var claimRowsSuffix: String { "" }
    var lockRowSuffix: String { "" }
    var modifyingCommonTableExpressions: Bool { false }
}
