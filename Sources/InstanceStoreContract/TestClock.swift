import SteadfastStore

/// The clock the contract cases move by hand.
public typealias TestClock = ManualClock
