import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    public func createInstance(_ request: CreateInstanceRequest, on db: any SQLConnection) throws -> InstanceRecord {
        let now = self.now
        _ = try requireLiveOwner(request.owner, now: now, on: db)
        if try db.queryFirst("SELECT 1 FROM instances WHERE id = ?", [.uuid(request.id)]) != nil {
            throw InstanceStoreError(
                .invalidRequest,
                "An instance with id \(request.id) already exists; create with a new id, or load "
                    + "the existing instance.",
                instanceID: request.id
            )
        }
        let snapshot = request.snapshot
        if snapshot.status.isFinal {
            throw InstanceStoreError(
                .invalidRequest,
                "A new instance cannot start \(snapshot.status.rawValue); create it running or idle.",
                instanceID: request.id
            )
        }
        guard snapshot.state.count <= options.maxStateSize else {
            throw InstanceStoreError.stateTooLarge(request.id, size: snapshot.state.count, limit: options.maxStateSize)
        }
        let (bytes, encoding) = try codec.encode(snapshot.state)
        do {
            try insertInstance(request, bytes: bytes, encoding: encoding, now: now, on: db)
        } catch let error as SQLDriverError where error.kind == .uniqueViolation {
            // Another transaction created the id between the check and the insert.
            throw InstanceStoreError(
                .invalidRequest, "An instance with id \(request.id) already exists; create with a new id.",
                instanceID: request.id)
        }
        try replaceAttachments(of: request.id, with: snapshot, on: db)
        return try readInstance(request.id, on: db)
    }

    private func insertInstance(
        _ request: CreateInstanceRequest, bytes: Data, encoding: StateEncoding, now: Date, on db: any SQLConnection
    ) throws {
        let snapshot = request.snapshot
        try db.execute(
            """
            INSERT INTO instances (
                id, definition_name, definition_version, status, is_suspended, version,
                lock_owner_id, next_timer_at, state, state_encoding, state_size, fault,
                created_at, updated_at, definition_fingerprint, blocked_reason)
            VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .uuid(request.id), .text(request.definition.name), .text(request.definition.version),
                .text(snapshot.status.rawValue), .bool(snapshot.isSuspended), .uuid(request.owner),
                .optionalTime(snapshot.nextTimerAt), .blob(bytes), .text(encoding.rawValue),
                .integer(Int64(snapshot.state.count)), .optionalText(snapshot.fault), .time(now), .time(now),
                .text(request.definition.fingerprint), .optionalText(snapshot.blockedReason),
            ]
        )
    }
}
