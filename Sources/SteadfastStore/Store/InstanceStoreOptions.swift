import Foundation
import Logging

/// A source of the current time. Stores read time only through it, so tests can make locks
/// expire and timers fall due without sleeping.
public typealias StoreClock = @Sendable () -> Date

/// What a completing save does with the instance's rows: a setting of the store, recorded in
/// it (see ``InstanceStore/setCompletionAction(_:)``), so every process that finishes an
/// instance does the same.
public enum InstanceCompletionAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// Delete a completed or canceled instance with its keys, bookmarks, properties and inbox
    /// (the classic default). A faulted or terminated instance, or one whose inbox still held
    /// entries, is kept with its reason until an operator purges it: a fault is never lost.
    case deleteAll
    /// Keep every finished instance for query; its keys stay reserved until it is purged.
    case deleteNothing
}

/// Options shared by every store.
public struct InstanceStoreOptions: Sendable {
    /// The default ``maxStateSize``: 16 MiB.
    public static let defaultMaxStateSize = 16 * 1024 * 1024
    /// The default ``quarantineAfter``.
    public static let defaultQuarantineAfter = 3

    public var encoding: StateEncodingOptions
    public var clock: StoreClock
    /// The largest serialized state, in bytes (before compression), the store writes or reads:
    /// a larger save fails with `stateTooLarge`, and a row that decodes larger (a gzip bomb, or
    /// a row written under a higher limit) is treated as damaged. Checked the same way on write
    /// and on read, so the store never saves what it cannot load.
    public var maxStateSize: Int
    /// How many times an instance may be claimed by another owner without a successful save in
    /// between (each such claim means the host that had it crashed or stopped) before the next
    /// claim quarantines it: faults it, keeping its state, instead of loading it again.
    public var quarantineAfter: Int
    /// How long after its lock expired a lock owner that holds no instance is kept; older ones
    /// are deleted when an owner registers or renews.
    public var expiredOwnerRetention: Duration
    /// How long an idempotency key of a create is kept (see ``CreateInstanceRequest/idempotency``).
    public var idempotencyKeyRetention: Duration
    /// Where the store logs what a caller cannot see from its errors: connections lost and
    /// re-established, notifications missed.
    public var logger: Logger

    public init(
        encoding: StateEncodingOptions = StateEncodingOptions(),
        clock: @escaping StoreClock = { Date() },
        maxStateSize: Int = InstanceStoreOptions.defaultMaxStateSize,
        quarantineAfter: Int = InstanceStoreOptions.defaultQuarantineAfter,
        expiredOwnerRetention: Duration = .seconds(3600),
        idempotencyKeyRetention: Duration = .seconds(24 * 3600),
        logger: Logger = Logger(label: "steadfast.store", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.encoding = encoding
        self.clock = clock
        self.maxStateSize = maxStateSize
        self.quarantineAfter = quarantineAfter
        self.expiredOwnerRetention = expiredOwnerRetention
        self.idempotencyKeyRetention = idempotencyKeyRetention
        self.logger = logger
    }
}
