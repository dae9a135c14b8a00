import Foundation
import SteadfastCore
import SteadfastStore

/// What a host records in an instance's history (its tracking profile).
public enum TrackingProfile: String, Sendable, Hashable, CaseIterable {
    /// Everything: instance-level events, and each activity started, completed, faulted or
    /// canceled, bookmarks opened and resumed, timers set and fired, and what writeLine printed.
    case full
    /// Created, loaded, persisted, unloaded, suspended, unsuspended, and how it ended.
    case instance
    /// Nothing.
    case off
}

/// Collects the history of one loaded instance between saves: the lifecycle feeds it each run
/// and what it applies, and the next save takes what it holds (``InstanceLifecycle``).
struct InstanceTracking {
    let profile: TrackingProfile
    let hostID: String
    private(set) var events: [HistoryEvent] = []
    private var openBookmarks: Set<String>
    private var knownTimers: Set<PendingTimer>

    init(profile: TrackingProfile, hostID: String, state: InstanceState) {
        self.profile = profile
        self.hostID = hostID
        openBookmarks = Set(state.bookmarks.map(\.operation))
        knownTimers = Set(state.timers)
    }

    /// Whether activity-level events are kept (the interpreter's trace is then on).
    var full: Bool { profile == .full }

    mutating func record(_ kind: HistoryKind, at now: Instant, _ detail: [String: JSONValue] = [:]) {
        guard profile != .off else { return }
        events.append(HistoryEvent(at: Date(timeIntervalSince1970: now.secondsSinceEpoch), kind: kind, detail: detail))
    }

    /// An activity-level event: only with the full profile.
    mutating func detail(_ kind: HistoryKind, at now: Instant, _ detail: [String: JSONValue] = [:]) {
        if full { record(kind, at: now, detail) }
    }

    /// What one run did: its activities, lines, and the bookmarks and timers it opened.
    mutating func run(_ result: RunResult, state: InstanceState, now: Instant) {
        guard full else { return }
        // The activities, stored as one compact record (paths name them: "body.sequence[1].delay").
        let trace = result.trace.lazy.map { event -> (kind: HistoryKind, path: String) in
            switch event.kind {
            case .started: (.activityStarted, event.path)
            case .completed: (.activityCompleted, event.path)
            case .faulted: (.activityFaulted, event.path)
            case .canceled: (.activityCanceled, event.path)
            }
        }
        if let activities = HistoryEvent.activities(at: Date(timeIntervalSince1970: now.secondsSinceEpoch), trace) {
            events.append(activities)
        }
        for line in result.lines { detail(.line, at: now, ["text": .string(line)]) }
        if !state.bookmarks.isEmpty || !openBookmarks.isEmpty {
            let bookmarks = Set(state.bookmarks.map(\.operation))
            for operation in bookmarks.subtracting(openBookmarks).sorted() {
                detail(.bookmarkOpened, at: now, ["operation": .string(operation)])
            }
            openBookmarks = bookmarks
        }
        if !state.timers.isEmpty || !knownTimers.isEmpty {
            let timers = Set(state.timers)
            for timer in timers.subtracting(knownTimers).sorted(by: { $0.due < $1.due }) {
                detail(
                    .timerSet, at: now, ["path": .string(timer.activityPath), "due": .string(timer.due.iso8601)])
            }
            knownTimers = timers
        }
    }

    /// The timers that fire now, before the run that fires them.
    mutating func timersFiring(_ state: InstanceState, now: Instant) {
        for timer in state.timers where timer.due <= now {
            detail(
                .timerFired, at: now,
                [
                    "path": .string(timer.activityPath), "due": .string(timer.due.iso8601),
                    "firedAt": .string(now.iso8601),
                ])
        }
    }

    /// The event of a save that is about to be made: persisted, unloaded, or how it ended.
    mutating func saving(_ lockAction: SaveLockAction, state: InstanceState, now: Instant) {
        switch lockAction {
        case .keepLock: record(.persisted, at: now, ["host": .string(hostID)])
        case .unlock: record(.unloaded, at: now, ["host": .string(hostID)])
        case .complete:
            switch state.status {
            case .completed: record(.completed, at: now, ["output": .object(state.variables)])
            case .faulted:
                record(
                    .faulted, at: now,
                    [
                        "fault": .string(state.fault?.message ?? "faulted"),
                        "path": state.fault.map { .string($0.activityPath) } ?? .null,
                    ])
            case .terminated:
                record(.terminated, at: now, ["reason": state.terminationReason.map(JSONValue.string) ?? .null])
            case .canceled:
                record(.canceled, at: now, ["reason": state.terminationReason.map(JSONValue.string) ?? .null])
            default: break
            }
        }
    }

    /// Takes back the event of a save that was refused (another save follows).
    mutating func saveRefused() {
        if let last = events.last, [.persisted, .unloaded].contains(last.kind) || HistoryKind.final.contains(last.kind)
        {
            events.removeLast()
        }
    }

    /// The save that carried the events succeeded.
    mutating func saved() { events = [] }
}
