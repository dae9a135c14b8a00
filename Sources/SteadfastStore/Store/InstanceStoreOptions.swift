import Foundation

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
    public var encoding: StateEncodingOptions
    public var clock: StoreClock

    public init(encoding: StateEncodingOptions = StateEncodingOptions(), clock: @escaping StoreClock = { Date() }) {
        self.encoding = encoding
        self.clock = clock
    }
}
