import Foundation

/// A source of the current time. Stores read time only through it, so tests can make locks
/// expire and timers fall due without sleeping.
public typealias StoreClock = @Sendable () -> Date

/// What a completing save does with the instance's rows.
public enum InstanceCompletionAction: String, Sendable, Hashable, Codable {
    /// Delete the instance, its keys, bookmarks, properties and messages (the classic default).
    case deleteAll
    /// Keep the finished instance for query; its keys stay reserved until it is purged.
    case deleteNothing
}

/// Options shared by every store.
public struct InstanceStoreOptions: Sendable {
    public var encoding: StateEncodingOptions
    public var completionAction: InstanceCompletionAction
    public var clock: StoreClock

    public init(
        encoding: StateEncodingOptions = StateEncodingOptions(),
        completionAction: InstanceCompletionAction = .deleteAll,
        clock: @escaping StoreClock = { Date() }
    ) {
        self.encoding = encoding
        self.completionAction = completionAction
        self.clock = clock
    }
}
