import Foundation

extension SQLInstanceCommands {
    /// Which kinds of attached rows an instance has now (a new one has none): what need not
    /// be read or deleted before the snapshot's are written.
    struct StoredAttachments {
        var keys = false
        var bookmarks = false
        var properties = false

        /// SQL for the three flags of the instance row named `row` (its table or alias), as columns.
        static func columns(of row: String = "i") -> String {
            """
            EXISTS (SELECT 1 FROM instance_keys k WHERE k.instance_id = \(row).id),
            EXISTS (SELECT 1 FROM bookmarks b WHERE b.instance_id = \(row).id),
            EXISTS (SELECT 1 FROM promoted_properties p WHERE p.instance_id = \(row).id)
            """
        }

        static func read(_ row: SQLRow, from column: Int) throws -> StoredAttachments {
            StoredAttachments(
                keys: try row.bool(column), bookmarks: try row.bool(column + 1), properties: try row.bool(column + 2))
        }
    }

    /// Makes the stored keys, bookmarks and promoted properties those of the snapshot.
    func replaceAttachments(
        of id: UUID, with snapshot: InstanceSnapshot, stored: StoredAttachments, on db: any SQLConnection
    ) throws {
        try replaceKeys(of: id, with: snapshot.keys, current: stored.keys ? nil : [], on: db)
        if stored.bookmarks { try db.execute("DELETE FROM bookmarks WHERE instance_id = ?", [.uuid(id)]) }
        if stored.properties {
            try db.execute("DELETE FROM promoted_properties WHERE instance_id = ?", [.uuid(id)])
        }
        for insert in Self.bookmarkInserts(of: id, snapshot.bookmarks)
            + Self.propertyInserts(of: id, snapshot.promotedProperties)
        {
            try db.execute(insert.sql, insert.parameters)
        }
    }

    static func bookmarkInserts(of id: UUID, _ bookmarks: Set<String>) -> [SQLStatement] {
        bookmarks.sorted().map {
            SQLStatement("INSERT INTO bookmarks (instance_id, name) VALUES (?, ?)", [.uuid(id), .text($0)])
        }
    }

    static func propertyInserts(of id: UUID, _ properties: [String: String]) -> [SQLStatement] {
        properties.sorted(by: { $0.key < $1.key }).map {
            SQLStatement(
                "INSERT INTO promoted_properties (instance_id, name, value) VALUES (?, ?, ?)",
                [.uuid(id), .text($0.key), .text($0.value)])
        }
    }

    static func keyInsert(of id: UUID, _ key: InstanceKey) -> SQLStatement {
        SQLStatement(
            "INSERT INTO instance_keys (name, value, instance_id) VALUES (?, ?, ?)",
            [.text(key.name), .text(key.value), .uuid(id)])
    }

    /// Associates the new keys (failing with `keyConflict` if another instance holds one) and
    /// frees the keys the instance no longer has.
    func replaceKeys(
        of id: UUID, with wanted: Set<InstanceKey>, current: Set<InstanceKey>? = nil, on db: any SQLConnection
    ) throws {
        let current = try current ?? keys(of: id, on: db)
        for key in current.subtracting(wanted) {
            try db.execute(
                "DELETE FROM instance_keys WHERE name = ? AND value = ? AND instance_id = ?",
                [.text(key.name), .text(key.value), .uuid(id)]
            )
        }
        for key in wanted.subtracting(current).sorted(by: { ($0.name, $0.value) < ($1.name, $1.value) }) {
            if let holder = try instanceID(forKey: key, on: db) {
                throw InstanceStoreError.keyConflict(key, heldBy: holder, for: id)
            }
            do {
                let insert = Self.keyInsert(of: id, key)
                try db.execute(insert.sql, insert.parameters)
            } catch let error as SQLDriverError where error.kind == .uniqueViolation {
                // Another transaction associated the key between our check and insert (the
                // transaction may now be aborted, so do not query again).
                throw InstanceStoreError.keyConflict(key, heldBy: nil, for: id)
            }
        }
    }

    /// Deletes an instance row and everything attached to it.
    func deleteRows(of id: UUID, on db: any SQLConnection) throws {
        if db.dialect.modifyingCommonTableExpressions {
            // One round trip instead of five.
            let deletion = Self.instanceDeletion(of: id)
            try db.execute(deletion.sql, deletion.parameters)
            return
        }
        for table in ["inbox", "instance_keys", "bookmarks", "promoted_properties"] {
            try db.execute("DELETE FROM \(table) WHERE instance_id = ?", [.uuid(id)])
        }
        try db.execute("DELETE FROM instances WHERE id = ?", [.uuid(id)])
    }

    /// One statement (data-modifying common table expressions) that deletes an instance's
    /// attached rows and, with `condition` (SQL after `WHERE id = ?`, and its parameters), its row.
    static func instanceDeletion(
        of id: UUID, where condition: String = "", _ parameters: [SQLValue] = []
    ) -> SQLStatement {
        SQLStatement(
            """
            WITH inbox_rows AS (DELETE FROM inbox WHERE instance_id = ?),
                key_rows AS (DELETE FROM instance_keys WHERE instance_id = ?),
                bookmark_rows AS (DELETE FROM bookmarks WHERE instance_id = ?),
                property_rows AS (DELETE FROM promoted_properties WHERE instance_id = ?)
            DELETE FROM instances WHERE id = ?
            """ + condition, Array(repeating: .uuid(id), count: 5) + parameters)
    }
}
