import Foundation

/// One result row: values by column position, with typed accessors that throw a clear error
/// when the database holds something the schema does not allow.
public struct SQLRow: Sendable, Hashable {
    public var values: [SQLValue]

    public init(_ values: [SQLValue]) {
        self.values = values
    }

    public subscript(_ column: Int) -> SQLValue { values[column] }

    func isNull(_ column: Int) -> Bool { values[column] == .null }

    func int(_ column: Int) throws -> Int64 {
        guard case .integer(let value) = values[column] else { throw unexpected(column, "integer") }
        return value
    }

    func text(_ column: Int) throws -> String {
        guard case .text(let value) = values[column] else { throw unexpected(column, "text") }
        return value
    }

    func optionalText(_ column: Int) throws -> String? {
        isNull(column) ? nil : try text(column)
    }

    func blob(_ column: Int) throws -> Data {
        switch values[column] {
        case .blob(let value): return value
        case .null: return Data()
        case .text(let value): return Data(value.utf8)
        case .integer: throw unexpected(column, "blob")
        }
    }

    func uuid(_ column: Int) throws -> UUID {
        let raw = try text(column)
        guard let id = UUID(uuidString: raw) else { throw unexpected(column, "uuid") }
        return id
    }

    func optionalUUID(_ column: Int) throws -> UUID? {
        isNull(column) ? nil : try uuid(column)
    }

    func time(_ column: Int) throws -> Date { StoreTime.date(try int(column)) }

    func optionalTime(_ column: Int) throws -> Date? {
        isNull(column) ? nil : try time(column)
    }

    func bool(_ column: Int) throws -> Bool { try int(column) != 0 }

    private func unexpected(_ column: Int, _ expected: String) -> InstanceStoreError {
        InstanceStoreError(
            .storeUnavailable,
            "Column \(column) holds \(values[column]) where the schema expects \(expected); the "
                + "database was changed outside Steadfast. Check its schema version."
        )
    }
}
