import SteadfastCore
import SteadfastStore

/// The decisions of a loaded instance's life cycle, without I/O: given what a run reported,
/// what the host must do next. The host carries the actions out in order.
///
/// loaded ─run─▶ persist point ─save(keep lock)─▶ acknowledged ─run─▶ …
///                idle ─▶ arm its timer; persist after timeToPersist; unload after timeToUnload
///                finished ─save(complete)─▶ dropped
enum InstanceLifecycle {
    enum Action: Equatable {
        /// Save the instance; when `acknowledgePersist`, tell it its persist points are durable.
        case save(SaveLockAction, acknowledgePersist: Bool)
        /// Start async custom activities.
        case startAsync([AsyncCall])
        /// Fire the instance's timers at this time while it stays loaded.
        case armTimer(Instant)
        /// Schedule the idle policy: a keep-lock save after `persistAfter`, an unload after `unloadAfter`.
        case armIdlePolicy(persistAfter: Duration?, unloadAfter: Duration)
        /// Forget the instance (after its last save).
        case drop
    }

    /// What to do after a run. `suspended`: the instance takes no timers or messages now, so it
    /// is saved and unloaded; `unsavedInbox`: inbox entries were applied or rejected since the
    /// last save, and the save that records their effect must follow at once.
    static func actions(
        after result: RunResult, suspended: Bool = false, unsavedInbox: Bool = false, options: HostOptions
    ) -> [Action] {
        if result.status.isFinal { return [.save(.complete, acknowledgePersist: false), .drop] }
        var actions: [Action] = []
        if !result.asyncCalls.isEmpty { actions.append(.startAsync(result.asyncCalls)) }
        if suspended && result.canPersist {
            // Nothing runs while suspended, a persist point included: unload; unsuspending
            // loads it again and goes on from there.
            actions.append(contentsOf: [.save(.unlock, acknowledgePersist: false), .drop])
            return actions
        }
        if result.persistRequested && result.canPersist {
            // What follows the persist point runs only after the save is durable.
            actions.append(.save(.keepLock, acknowledgePersist: true))
            return actions
        }
        if result.canPersist && result.status == .idle && options.timeToUnload == .zero {
            actions.append(contentsOf: [.save(.unlock, acknowledgePersist: false), .drop])
            return actions
        }
        if unsavedInbox && result.canPersist { actions.append(.save(.keepLock, acknowledgePersist: false)) }
        guard result.status == .idle, !suspended else { return actions }
        if let due = result.nextTimer { actions.append(.armTimer(due)) }
        if result.canPersist {
            actions.append(.armIdlePolicy(persistAfter: options.timeToPersist, unloadAfter: options.timeToUnload))
        }
        return actions
    }
}
