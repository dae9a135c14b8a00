import Foundation
import SteadfastCore
import SteadfastHost
import SteadfastStore

/// The engine's operations, shared by every front end (`wf`, the HTTP API): they parse nothing
/// and print nothing; they take typed input and return views or throw ``ApplicationError``.
public struct WorkflowService: Sendable {
    public let store: any InstanceStore
    /// How often a wait looks at the store, at most (it looks after 1 ms, then doubles the pause).
    public var pollInterval: Duration = .milliseconds(10)
    /// The host id of the short-lived lock owner an operator's command uses to apply itself to
    /// an instance no host holds.
    public var operatorHostID = "wf-operator-\(ProcessInfo.processInfo.processIdentifier)"
    let clock: StoreClock

    public init(store: any InstanceStore, clock: @escaping StoreClock = { Date() }) {
        self.store = store
        self.clock = clock
    }

    // MARK: Queries

    /// The instance a full id or a unique id prefix (the 8 characters progress lines print) names.
    public func resolveID(_ text: String) async throws(ApplicationError) -> UUID {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let id = UUID(uuidString: trimmed) { return id }
        guard !trimmed.isEmpty, trimmed.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw ApplicationError(
                .invalidInput,
                "'\(text)' is not an instance id: give the id (a UUID) or a unique prefix of it, such as the 8 "
                    + "characters progress lines print (list them with `wf instances`)")
        }
        var matches = try await call {
            try await store.listInstances(InstanceQuery(idPrefix: trimmed, limit: 2)).map(\.id)
        }
        if matches.isEmpty {
            // An instance the completion action deleted is still named by its history.
            matches = try await call { try await store.historyInstanceIDs(idPrefix: trimmed, limit: 2) }
        }
        switch matches.count {
        case 0: throw ApplicationError(.instanceNotFound, "no instance id starts with '\(trimmed)'")
        case 1: return matches[0]
        default:
            throw ApplicationError(
                .ambiguousID, "more than one instance id starts with '\(trimmed)'; give more characters of the id")
        }
    }

    /// One instance. An instance whose state bytes cannot even be decompressed is shown from its
    /// listing metadata, with the reason.
    public func show(_ id: UUID) async throws(ApplicationError) -> InstanceView {
        do {
            return InstanceView(record: try await store.readInstance(id), now: clock())
        } catch let error as InstanceStoreError where error.code == .corruptState {
            let summary = try? await store.listInstances(InstanceQuery(idPrefix: id.uuidString, limit: 1)).first
            guard let summary else { throw ApplicationError(error) }
            return InstanceView(summary: summary, stateError: error.message, now: clock())
        } catch {
            throw ApplicationError(error)
        }
    }

    /// The instance as saved at version `revision` (its history keeps each save's state for
    /// the store's retention): what that state says, with that version.
    public func show(_ id: UUID, revision: Int64) async throws(ApplicationError) -> InstanceView {
        InstanceView(revision: try await revisionState(id, revision), version: revision)
    }

    /// The state of revision `version`, decoded; `instance-not-found` when there is none.
    func revisionState(_ id: UUID, _ version: Int64) async throws(ApplicationError) -> InstanceState {
        guard let data = try await call({ try await store.revision(of: id, version: version) }) else {
            throw ApplicationError(
                .instanceNotFound,
                "instance \(id) has no revision \(version): hosts record revisions with the history (with "
                    + "--tracking instance or full), and retention removes them; see `wf history` for the versions")
        }
        do {
            return try InstanceState.decode(data)
        } catch {
            throw ApplicationError(.corruptState, "revision \(version) of instance \(id) cannot be read: \(error)")
        }
    }

    /// A page of instances, newest-updated first, and the token that continues it (nil on the
    /// last page). An instance whose state cannot be read is listed with the reason.
    public func list(_ query: InstanceQuery, continuation: String? = nil) async throws(ApplicationError)
        -> InstancePage
    {
        var query = query
        if let continuation { query.after = try InstancePage.cursor(from: continuation) }
        let limit = query.limit ?? 100
        guard limit > 0 else { throw ApplicationError(.invalidInput, "the limit must be at least 1, not \(limit)") }
        query.limit = limit + 1
        var summaries = try await call { try await store.listInstances(query) }
        let more = summaries.count > limit
        summaries = Array(summaries.prefix(limit))
        // One batched read for the page; an instance deleted since it was listed is left out.
        let records = try await call { try await store.readInstances(summaries.map(\.id)) }
        let views = summaries.compactMap { summary -> InstanceView? in
            switch records[summary.id] {
            case .success(let record)?: InstanceView(record: record, now: clock())
            case .failure(let error)?: InstanceView(summary: summary, stateError: error.message, now: clock())
            case nil: nil
            }
        }
        let next = more ? summaries.last.map { InstancePage.token(after: $0) } : nil
        return InstancePage(instances: views, continuation: next)
    }

    /// Everything sent to the instance that it still keeps, oldest first: applied commands and
    /// messages, rejected ones with their reason, and what waits.
    public func inbox(_ id: UUID) async throws(ApplicationError) -> [InboxEntryView] {
        _ = try await show(id)
        return try await call { try await store.inbox(for: id, pendingOnly: false).map(InboxEntryView.init) }
    }

    /// The instance's history after `position` (nil: from its start), oldest first. It outlives
    /// an instance the completion action deleted (for the store's retention); an id with
    /// neither an instance nor history is `instance-not-found`.
    public func history(
        _ id: UUID, after position: HistoryPosition? = nil, limit: Int = 1000
    ) async throws(ApplicationError) -> [HistoryEntryView] {
        let records = try await call { try await store.history(of: id, after: position, limit: limit) }
        if records.isEmpty && position == nil { _ = try await show(id) }
        return records.map(HistoryEntryView.init)
    }

    // MARK: Control commands

    /// Stores a control command for the instance, whoever holds it, then waits as asked. When no
    /// live host holds the instance, the command is applied here at once (a control command
    /// needs no definition), unless a message that must be applied first waits for a host of
    /// the instance's definition.
    public func control(
        _ id: UUID, _ command: InboxEntry.Command, clientID: String? = nil, wait: WaitCondition = .applied,
        timeout: Duration = .seconds(30)
    ) async throws(ApplicationError) -> CommandOutcome {
        precondition(command.isControl, "control(_:_:) takes control commands; send messages with send")
        let entry = try await call { try await store.enqueue(command, for: id, clientID: clientID) }
        try await applyWithoutHost(id)
        return try await self.wait(for: entry, until: wait, timeout: timeout, session: nil)
    }

    /// Applies an instance's pending control commands as an operator when no live host holds it:
    /// locks it as a short-lived owner, applies the entries in order (see ``OperatorChange`` for
    /// a message only a host can apply), and saves once. Nothing to apply
    /// leaves the instance untouched (its version does not change).
    func applyWithoutHost(_ id: UUID) async throws(ApplicationError) {
        try await asOperator { owner in try await applyControl(id, owner: owner) }
    }

    /// Runs `body` as a short-lived lock owner of its own (an operator's change to an instance
    /// no host holds), deleted afterwards, which releases any lock `body` left.
    func asOperator<T>(_ body: (_ owner: UUID) async throws -> T) async throws(ApplicationError) -> T {
        try await call {
            let owner = try await store.createLockOwner(hostID: operatorHostID, lockDuration: .seconds(30))
            let result: T
            do {
                result = try await body(owner.id)
            } catch {
                try? await store.deleteLockOwner(owner.id)
                throw error
            }
            try await store.deleteLockOwner(owner.id)
            return result
        }
    }

    private func applyControl(_ id: UUID, owner: UUID) async throws {
        let loaded: LoadedInstance
        do {
            loaded = try await store.loadInstance(id, owner: owner)
        } catch let error as InstanceStoreError where error.code == .instanceLocked {
            return  // a live host holds it: that host applies the command from its inbox
        }
        let record = loaded.record
        var change = OperatorChange(record: record)
        change.apply(loaded.inbox, now: clock())
        guard !change.applied.isEmpty else { return }  // deleting the owner releases the lock
        _ = try await store.save(
            SaveRequest(
                instanceID: id, owner: owner, expectedVersion: record.version, snapshot: change.snapshot,
                appliedEntryIDs: change.applied, lockAction: change.snapshot.status.isFinal ? .complete : .unlock,
                history: change.history))
    }

    // MARK: Messages

    /// Delivers a message routed by its correlation key through `session`'s host (which knows
    /// the definitions and their keys), then waits as asked.
    public func send(
        _ operation: String, body: JSONValue, clientID: String? = nil, through session: HostSession,
        wait: WaitCondition = .applied, timeout: Duration = .seconds(30)
    ) async throws(ApplicationError) -> CommandOutcome {
        try Self.checkBody(body, for: operation)
        let delivery = try await call {
            try await session.host.send(operation: operation, body: body, clientID: clientID)
        }
        return try await self.wait(for: delivery.entry, until: wait, timeout: timeout, session: session)
    }

    /// Delivers a message to an instance by id, whoever holds it; `session`'s host loads the
    /// instance when it can run it now.
    public func resume(
        _ id: UUID, operation: String, body: JSONValue, clientID: String? = nil, through session: HostSession?,
        wait: WaitCondition = .applied, timeout: Duration = .seconds(30)
    ) async throws(ApplicationError) -> CommandOutcome {
        try Self.checkBody(body, for: operation)
        if let session {
            let definition = try await show(id).definition
            if let hosted = session.host.catalog.definition(name: definition.name, version: definition.version),
                hosted.receiveOperations[operation] == nil
            {
                let known = hosted.receiveOperations.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
                throw ApplicationError(
                    .noRoute,
                    "definition '\(definition.name)' version '\(definition.version)' has no Receive for '\(operation)' "
                        + "(it receives \(known.isEmpty ? "no messages" : known)); nothing was stored")
            }
        }
        let entry = try await call {
            if let session {
                return try await session.host.deliver(to: id, operation: operation, body: body, clientID: clientID)
            }
            return try await store.enqueueMessage(
                for: id, operation: operation, body: Data(body.jsonText.utf8), clientID: clientID)
        }
        return try await self.wait(for: entry, until: wait, timeout: timeout, session: session)
    }

    /// A body nested past the engine's limits would be kept as poison, never applied: refused
    /// before anything is stored.
    static func checkBody(_ body: JSONValue, for operation: String) throws(ApplicationError) {
        if let problem = body.depthProblem("the message for '\(operation)'") {
            throw ApplicationError(.invalidInput, problem + "; nothing was stored")
        }
    }

    // MARK: Instances run here

    /// Starts an instance of the newest hosted version of `definitionName` on `session`'s host,
    /// with `input` setting its variables; returns its id once it is stored.
    public func start(
        _ definitionName: String, input: [String: JSONValue] = [:], through session: HostSession
    ) async throws(ApplicationError) -> UUID {
        try await start(definitionName, version: nil, input: input, idempotencyKey: nil, through: session).id
    }

    /// Starts an instance of `version` of `definitionName` (nil: the newest hosted); with an
    /// idempotency key, a retry returns the instance the first request started (`replayed`)
    /// instead of starting another, for as long as the store keeps the key (24 hours).
    public func start(
        _ definitionName: String, version: String?, input: [String: JSONValue], idempotencyKey: String?,
        through session: HostSession
    ) async throws(ApplicationError) -> (id: UUID, replayed: Bool) {
        try await call {
            try await session.host.startInstance(
                definitionName: definitionName, version: version, input: input, idempotencyKey: idempotencyKey)
        }
    }

    /// Waits until the instance has finished, on this host or another one, and returns its view
    /// (nil when another host finished it and the completion action deleted it).
    public func waitUntilFinished(_ id: UUID, session: HostSession?) async throws(ApplicationError) -> InstanceView? {
        while true {
            if let state = session?.finalState(of: id), state.status.isFinal {
                return try await view(of: id, session: session)
            }
            guard let record = try await call({ try await readIfPresent(id) }) else {
                return try await view(of: id, session: session)
            }
            if record.status.isFinal { return InstanceView(record: record, now: clock()) }
            try await pause(pollInterval * 5)
        }
    }

    /// The instance as stored, or — when the completion action deleted its rows — as it ended on
    /// `session`'s host; nil when neither is known.
    public func view(of id: UUID, session: HostSession?) async throws(ApplicationError) -> InstanceView? {
        if let record = try await call({ try await readIfPresent(id) }) {
            return InstanceView(record: record, now: clock())
        }
        return session?.finalState(of: id).map(InstanceView.init(deleted:))
    }

    // MARK: Administration

    /// Deletes one instance that no live host holds, whatever its state bytes.
    public func delete(_ id: UUID) async throws(ApplicationError) {
        try await call { try await store.deleteInstance(id) }
    }

    /// Deletes (or, with `dryRun`, lists) the instances the filter selects that no live host holds.
    public func purge(_ filter: PurgeFilter, dryRun: Bool) async throws(ApplicationError) -> PurgeResult {
        if dryRun {
            let ids = try await call { try await store.purgeCandidates(filter) }
            return PurgeResult(count: ids.count, dryRun: true, ids: ids.map(\.uuidString))
        }
        let count = try await call { try await store.purgeInstances(filter) }
        return PurgeResult(count: count, dryRun: false, ids: nil)
    }

    public func completionAction() async throws(ApplicationError) -> InstanceCompletionAction {
        try await call { try await store.completionAction() }
    }

    public func setCompletionAction(_ action: InstanceCompletionAction) async throws(ApplicationError) {
        try await call { try await store.setCompletionAction(action) }
    }

    // MARK: Waiting

    /// Waits until `condition` holds for what `entry` asked, or `timeout` passes (then the entry
    /// stays queued and the error says so). A message that no open Receive takes while no host
    /// holds its instance returns at once, saying what it waits for, instead of waiting out the
    /// timeout.
    func wait(
        for entry: InboxEntry, until condition: WaitCondition, timeout: Duration, session: HostSession?
    ) async throws(ApplicationError) -> CommandOutcome {
        let id = entry.instanceID
        let deadline = ContinuousClock.now + timeout
        // Most commands are applied within milliseconds: look again soon, then less often; a
        // wait on the host that runs the instance looks again at each of its events.
        var interval = min(pollInterval, .milliseconds(1))
        while true {
            let token = session?.changes.count(of: id.uuidString)
            // The instance first, then the entry: the entry read is then at least as new as the
            // instance read, so an entry seen pending is never paired with the state its
            // applying save produced.
            let record = try await call { try await readIfPresent(id) }
            let current = try await call { try await store.inboxEntry(entry.id) }
            if let current, current.state == .rejected || current.state == .poison {
                throw ApplicationError(
                    .rejected,
                    "instance \(id) will not apply \(Self.describe(current)) (entry \(current.id)): "
                        + (current.reason ?? "no reason recorded"))
            }
            // An entry is gone only with its instance: the completion action deleted it, after the
            // save that applied the entry.
            let applied = current == nil || current?.state == .applied
            let status = record?.status ?? session?.finalState(of: id)?.status
            let finished = record == nil || status?.isFinal == true
            let reached =
                switch condition {
                case .accepted: true
                case .applied: applied
                case .idle: applied && (finished || status == .idle)
                case .completed: finished
                }
            if reached {
                // Read the instance again, so the view shown is at least as new as the entry.
                return try await outcome(of: current ?? entry, applied: applied && condition != .accepted, session)
            }
            if !applied, let record, let waiting = Self.waitsWithoutHost(current ?? entry, record, now: clock()) {
                var outcome = try await outcome(of: current ?? entry, applied: false, session)
                outcome.waiting = waiting
                return outcome
            }
            // The host that held the instance let it go before it applied a control command:
            // apply it here (it needs no definition).
            if !applied, entry.command.isControl, let record, record.summary.liveLock(at: clock()) == nil {
                do { try await applyWithoutHost(id) } catch {}
            }
            guard ContinuousClock.now < deadline else {
                throw ApplicationError(
                    .timeout,
                    applied
                        ? "instance \(id) took \(Self.describe(entry)) (inbox entry \(entry.id)) but did not reach "
                            + "'\(condition.rawValue)' within \(timeout); see it with `wf show`"
                        : "instance \(id) did not apply \(Self.describe(entry)) within \(timeout); it stays stored "
                            + "(inbox entry \(entry.id)) and is applied when a host runs the instance")
            }
            if let session, let token {
                await session.changes.wait(after: token, for: id.uuidString, timeout: pollInterval)
                try stopIfCancelled()
            } else {
                try await pause(interval)
                interval = min(interval * 2, pollInterval)
            }
        }
    }

    /// Sleeps between looks at the store; a cancelled wait (SIGINT/SIGTERM in `wf`) ends at once.
    private func pause(_ duration: Duration) async throws(ApplicationError) {
        try? await Task.sleep(for: duration)
        try stopIfCancelled()
    }

    private func stopIfCancelled() throws(ApplicationError) {
        if Task.isCancelled {
            throw ApplicationError(.hostStopped, "the wait was interrupted; what was sent stays stored")
        }
    }

    /// The entry and the instance as they are now (or as it ended on `session`'s host, when the
    /// completion action deleted it); `applied` marks an entry gone with its instance applied.
    private func outcome(of entry: InboxEntry, applied: Bool, _ session: HostSession?) async throws(ApplicationError)
        -> CommandOutcome
    {
        var shown = entry
        if applied { shown.state = .applied }
        return CommandOutcome(
            entry: InboxEntryView(shown), instance: try await view(of: entry.instanceID, session: session))
    }

    /// Why a pending message cannot be applied now by anyone, when no live host holds its
    /// instance: it is suspended, or no open Receive takes it. Nil when a host may apply it.
    static func waitsWithoutHost(_ entry: InboxEntry, _ record: InstanceRecord, now: Date) -> String? {
        guard case .message(let operation, _) = entry.command, record.summary.liveLock(at: now) == nil,
            !record.status.isFinal
        else { return nil }
        if let blocked = record.summary.blockedReason { return "instance \(record.id) \(blocked)" }
        if record.summary.isSuspended {
            return "instance \(record.id) is suspended; the message is applied after `wf unsuspend`"
        }
        guard record.status != .running, !record.bookmarks.contains(operation) else { return nil }
        let open = record.bookmarks.sorted().map { "'\($0)'" }.joined(separator: ", ")
        return "instance \(record.id) is not waiting for '\(operation)' now"
            + (open.isEmpty ? "" : " (it waits for \(open))")
            + "; the message waits in its inbox and is delivered when a Receive for it opens"
    }

    static func describe(_ entry: InboxEntry) -> String {
        switch entry.command {
        case .message(let operation, _): "the message '\(operation)'"
        default: "the \(entry.command.kind) command"
        }
    }

    private func readIfPresent(_ id: UUID) async throws -> InstanceRecord? {
        do {
            return try await store.readInstance(id)
        } catch let error as InstanceStoreError where error.code == .instanceNotFound {
            return nil
        }
    }

    /// Runs a call to the layers below, turning whatever it throws into an ``ApplicationError``.
    func call<T>(_ body: () async throws -> T) async throws(ApplicationError) -> T {
        do {
            return try await body()
        } catch {
            throw ApplicationError(error)
        }
    }
}

/// How long a command waits: until it is stored, applied, the instance is idle again, or it
/// has finished.
public enum WaitCondition: String, Sendable, Hashable, Codable, CaseIterable {
    case accepted, applied, idle, completed
}

/// What a message or command became: its inbox entry, and the instance when the wait ended.
public struct CommandOutcome: Codable, Sendable, Hashable {
    public var entry: InboxEntryView
    /// The instance; nil when it is gone and its final state was not seen here.
    public var instance: InstanceView?
    /// Set when the wait ended early because the message cannot be applied now: what it waits for.
    public var waiting: String?
}

/// One page of a listing.
public struct InstancePage: Codable, Sendable, Hashable {
    public var instances: [InstanceView]
    /// Pass it back to get the next page; null on the last page.
    public var continuation: String?

    private enum CodingKeys: String, CodingKey { case instances, continuation }

    public init(instances: [InstanceView], continuation: String?) {
        self.instances = instances
        self.continuation = continuation
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(instances, forKey: .instances)
        try container.encode(continuation, forKey: .continuation)
    }

    static func token(after summary: InstanceSummary) -> String {
        let text = "\(Int64((summary.updatedAt.timeIntervalSince1970 * 1000).rounded(.down))):\(summary.id.uuidString)"
        return Data(text.utf8).base64EncodedString()
    }

    static func cursor(from token: String) throws(ApplicationError) -> InstanceCursor {
        let invalid = ApplicationError(
            .invalidInput, "'\(token)' is not a continuation token; pass the one the previous page returned")
        guard let data = Data(base64Encoded: token) else { throw invalid }
        let parts = String(decoding: data, as: UTF8.self).split(separator: ":")
        guard parts.count == 2, let millis = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
            throw invalid
        }
        return InstanceCursor(updatedAt: Date(timeIntervalSince1970: Double(millis) / 1000), id: id)
    }
}

/// What a purge removed (or, on a dry run, would remove).
public struct PurgeResult: Codable, Sendable, Hashable {
    public var count: Int
    public var dryRun: Bool
    /// The ids, on a dry run.
    public var ids: [String]?
}
