import Foundation
import SteadfastCore

/// A value bound to, or read from, a SQL statement. The shared schema uses only these four
/// storage classes (ids are text, times are integer milliseconds since 1970, flags are 0/1).
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)
    case blob(Data)
}

extension SQLValue {
    static func uuid(_ id: UUID) -> SQLValue { .text(id.lowercasedText) }
    static func time(_ date: Date) -> SQLValue { .integer(StoreTime.milliseconds(date)) }
    static func optionalTime(_ date: Date?) -> SQLValue { date.map(time) ?? .null }
    static func bool(_ flag: Bool) -> SQLValue { .integer(flag ? 1 : 0) }
    static func optionalText(_ text: String?) -> SQLValue { text.map(SQLValue.text) ?? .null }
}
