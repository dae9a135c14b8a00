import Foundation

/// What one round of runnable-instance detection got from the store, all read with one clock
/// reading in one transaction.
public struct RunnableBatch: Sendable, Hashable {
    /// An instance the claim faulted instead of loading, and the fault it recorded.
    public struct Faulted: Sendable, Hashable {
        public var id: UUID
        /// The fault text now stored with the instance (`cannot resume: …`, or its quarantine).
        public var reason: String

        public init(id: UUID, reason: String) {
            self.id = id
            self.reason = reason
        }
    }

    /// The instances claimed and loaded for the owner, earliest due first.
    public var loaded: [LoadedInstance]
    /// Claimed rows that could not be resumed (damaged state, or quarantined): each is faulted
    /// in place, unlocked, its state bytes kept for an operator. Report each.
    public var faulted: [Faulted]
    /// The earliest timer due after the round's clock reading among unsuspended instances of
    /// the definitions that no live owner holds: arm the next round at min(period, this − now).
    public var nextTimerDueTime: Date?

    public init(loaded: [LoadedInstance], faulted: [Faulted] = [], nextTimerDueTime: Date? = nil) {
        self.loaded = loaded
        self.faulted = faulted
        self.nextTimerDueTime = nextTimerDueTime
    }

    /// How many rows the round claimed (loaded or faulted): a round that claimed its whole
    /// limit may have left more runnable instances behind.
    public var claimedCount: Int { loaded.count + faulted.count }
}
