import Foundation

extension SQLInstanceCommands {
    /// Makes the stored keys, bookmarks and promoted properties those of the snapshot; `fresh`:
    /// the instance was just inserted, so it has none yet.
    func replaceAttachments(
        of id: UUID, with snapshot: InstanceSnapshot, fresh: Bool = false, on db: any SQLConnection
    ) throws {
        try replaceKeys(of: id, with: snapshot.keys, current: fresh ? [] : nil, on: db)
        if !fresh { try db.execute("DELETE FROM bookmarks WHERE instance_id = ?", [.uuid(id)]) }
        for name in snapshot.bookmarks.sorted() {
            try db.execute("INSERT INTO bookmarks (instance_id, name) VALUES (?, ?)", [.uuid(id), .text(name)])
        }
        if !fresh { try db.execute("DELETE FROM promoted_properties WHERE instance_id = ?", [.uuid(id)]) }
        for (name, value) in snapshot.promotedProperties.sorted(by: { $0.key < $1.key }) {
            try db.execute(
                "INSERT INTO promoted_properties (instance_id, name, value) VALUES (?, ?, ?)",
                [.uuid(id), .text(name), .text(value)]
            )
        }
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
                try db.execute(
                    "INSERT INTO instance_keys (name, value, instance_id) VALUES (?, ?, ?)",
                    [.text(key.name), .text(key.value), .uuid(id)]
                )
            } catch let error as SQLDriverError where error.kind == .uniqueViolation {
                // Another transaction associated the key between our check and insert (the
                // transaction may now be aborted, so do not query again).
                throw InstanceStoreError.keyConflict(key, heldBy: nil, for: id)
            }
        }
    }

    /// Deletes an instance row and everything attached to it.
    func deleteRows(of id: UUID, on db: any SQLConnection) throws {
        for table in ["inbox", "instance_keys", "bookmarks", "promoted_properties"] {
            try db.execute("DELETE FROM \(table) WHERE instance_id = ?", [.uuid(id)])
        }
        try db.execute("DELETE FROM instances WHERE id = ?", [.uuid(id)])
    }
}
