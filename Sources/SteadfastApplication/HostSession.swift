import Foundation
import Logging
import SteadfastCore
import SteadfastHost
import SteadfastStore
import Synchronization

/// A workflow host run by a front end for as long as it needs one (`wf run`, `wf send`,
/// `wf serve`), which remembers the final state of the instances that finished on it, so a
/// view of an instance the completion action deleted shows how it ended rather than nothing.
public final class HostSession: Sendable {
    public let host: WorkflowHost
    private let box: FinishedBox
    /// Counts the host's events (a save, an unload, an instance finished), keyed by instance id:
    /// a wait on this host looks at the store again as soon as its instance changes, instead of
    /// at its next poll (and not at every other instance's change).
    public let changes = ChangeSignal(buckets: 256)

    /// The host logs its events to `logger`; `onEvent` sees every one too (to wait for one).
    public init(
        store: any InstanceStore, catalog: DefinitionCatalog, options: HostOptions,
        clock: @escaping StoreClock = { Date() },
        logger: Logger = Logger(label: "steadfast.host", factory: { _ in SwiftLogNoOpLogHandler() }),
        onEvent: @escaping @Sendable (HostEvent) -> Void = { _ in }
    ) {
        let box = FinishedBox()
        let changes = self.changes
        self.host = WorkflowHost(
            store: store, catalog: catalog, options: options,
            onEvent: { event in
                if case .finished(let id, let state) = event, let uuid = UUID(uuidString: id) {
                    box.record(uuid, state)
                }
                onEvent(event)
                changes.signal(event.instance)
            }, logger: logger, clock: clock)
        self.box = box
    }

    /// The state an instance ended with on this host, if it finished here.
    public func finalState(of id: UUID) -> InstanceState? { box.state(of: id) }
}

/// The final states of instances that finished on one host.
private final class FinishedBox: Sendable {
    private let states = Mutex<[UUID: InstanceState]>([:])

    func record(_ id: UUID, _ state: InstanceState) { states.withLock { $0[id] = state } }
    func state(of id: UUID) -> InstanceState? { states.withLock { $0[id] } }
}
