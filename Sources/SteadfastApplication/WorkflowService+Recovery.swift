import Foundation
import SteadfastCore
import SteadfastHost
import SteadfastStore

/// Going on from an instance's revisions (the states its saves wrote, kept with its history):
/// rewinding it, forking a new instance from one, and recovering a faulted one, optionally
/// onto another version of its definition.
extension WorkflowService {
    /// Puts the instance back to revision `version` and unlocks it, as the version after its
    /// last, recording the rewind in its history; a host of its definition then runs it from
    /// there. With `targetVersion`, it goes on under that version of its definition instead,
    /// when the two are compatible at that point (see
    /// `WorkflowInstance.init(continuing:of:under:as:setting:)`); otherwise the rewind is
    /// refused with the first difference named.
    ///
    /// It must not be held by a live host (`wf abandon` lets go of it first). An instance the
    /// completion action deleted comes back from its history. `catalog` must have the
    /// revision's exact definition (and the target version): the running activities,
    /// bookmarks and timers are what the definition makes of the state. What the instance did
    /// after that revision is discarded; entries still waiting in its inbox stay.
    public func rewind(
        _ id: UUID, to version: Int64, onto targetVersion: String? = nil, catalog: DefinitionCatalog
    ) async throws(ApplicationError) -> InstanceView {
        try await rewind(id, to: version, onto: targetVersion, catalog: catalog, onlyIfFaulted: false)
    }

    /// ``rewind(_:to:onto:catalog:)``; with `onlyIfFaulted`, refused unless the instance is
    /// faulted when it is locked for the rewind (a retried recover finds it running again and
    /// changes nothing).
    private func rewind(
        _ id: UUID, to version: Int64, onto targetVersion: String?, catalog: DefinitionCatalog, onlyIfFaulted: Bool
    ) async throws(ApplicationError) -> InstanceView {
        let (instance, revisionDefinition) = try await continuing(
            id, from: version, onto: targetVersion, catalog: catalog)
        let target = instance.definition.identity
        // Read before the lock is taken (it lasts 30 s): what a deleted instance comes back as.
        let lastRecorded = try await recordedVersions(of: id).last ?? version
        var detail: [String: JSONValue] = ["to": .number(Double(version))]
        try await asOperator { owner in
            do {
                let current = try await store.loadInstance(id, owner: owner).record
                if onlyIfFaulted && current.summary.status != .faulted {
                    throw ApplicationError(
                        .conflict,
                        "instance \(id) is \(current.summary.status.rawValue) now, not faulted: it was recovered "
                            + "already; nothing was changed")
                }
                detail["from"] = .number(Double(current.version))
                let moved = current.summary.definition != target
                if moved { detail["definitionVersion"] = .string(target.version) }
                // A suspended instance stays suspended.
                _ = try await store.save(
                    SaveRequest(
                        instanceID: id, owner: owner, expectedVersion: current.version,
                        snapshot: try snapshot(of: instance, suspended: current.summary.isSuspended),
                        lockAction: .unlock, history: [HistoryEvent(at: clock(), kind: .rewound, detail: detail)],
                        definition: moved ? target : nil))
            } catch let error as InstanceStoreError where error.code == .instanceNotFound && !onlyIfFaulted {
                // The completion action deleted it: it comes back from its history, after its
                // last recorded version.
                detail["from"] = .number(Double(lastRecorded))
                if revisionDefinition != target { detail["definitionVersion"] = .string(target.version) }
                _ = try await store.createInstance(
                    CreateInstanceRequest(
                        id: id, owner: owner, definition: target, snapshot: try snapshot(of: instance),
                        history: [HistoryEvent(at: clock(), kind: .rewound, detail: detail)],
                        version: lastRecorded + 1))
                _ = try await store.releaseLock(of: id, owner: owner)
            }
        }
        return try await show(id)
    }

    /// Starts a new instance from revision `version` of instance `id`, which is left as it is:
    /// the new one has its own id, the revision's variables (with `changes` set, such as new
    /// values for its correlation keys, which no two instances share) and goes on from the
    /// revision's point, under `targetVersion` of the definition when given and compatible.
    /// Its history starts with `forked`, naming where it came from. `catalog` must have the
    /// revision's exact definition.
    public func fork(
        _ id: UUID, from version: Int64, onto targetVersion: String? = nil, setting changes: [String: JSONValue] = [:],
        catalog: DefinitionCatalog
    ) async throws(ApplicationError) -> InstanceView {
        let forkID = UUID()
        let (instance, revisionDefinition) = try await continuing(
            id, from: version, onto: targetVersion, as: forkID, setting: changes, catalog: catalog)
        let snapshot = try snapshot(of: instance)
        let target = instance.definition.identity
        var detail: [String: JSONValue] = [
            "instance": .string(id.lowercasedText), "revision": .number(Double(version)),
        ]
        if target != revisionDefinition { detail["definitionVersion"] = .string(target.version) }
        let event = HistoryEvent(at: clock(), kind: .forked, detail: detail)
        do {
            try await asOperator { owner in
                _ = try await store.createInstance(
                    CreateInstanceRequest(
                        id: forkID, owner: owner, definition: target, snapshot: snapshot, history: [event]))
                _ = try await store.releaseLock(of: forkID, owner: owner)
            }
        } catch  where error.code == .keyConflict {
            let keys = instance.state.keys.sorted { $0.key < $1.key }
            throw ApplicationError(
                .keyConflict,
                "the fork would hold the correlation key "
                    + keys.map { "\($0.key) = \($0.value.jsonText)" }.joined(separator: ", ")
                    + ", which another instance holds: give the fork its own key values ("
                    + keys.map { "--set \($0.key)=NEW" }.joined(separator: " ") + ")")
        }
        return try await show(forkID)
    }

    /// Brings a faulted instance back: rewinds it to its last revision from before the fault
    /// (the latest one that had not ended), optionally onto `targetVersion` of its definition
    /// (one that fixes the fault, when compatible at that point), and unlocks it so a host runs
    /// it on from there.
    public func recover(
        _ id: UUID, onto targetVersion: String? = nil, catalog: DefinitionCatalog
    ) async throws(ApplicationError) -> InstanceView {
        let view = try await show(id)
        guard view.status == .faulted else {
            throw ApplicationError(
                .conflict,
                "instance \(id) is \(view.status.rawValue), not faulted: recover brings back faulted instances; put "
                    + "another back to one of its revisions with `wf rewind` (see `wf history` for them)")
        }
        for version in try await recordedVersions(of: id).reversed() {
            guard let data = try await call({ try await store.revision(of: id, version: version) }),
                let state = try? InstanceState.decode(data), !state.status.isFinal
            else { continue }
            return try await rewind(id, to: version, onto: targetVersion, catalog: catalog, onlyIfFaulted: true)
        }
        throw ApplicationError(
            .instanceNotFound,
            "instance \(id) has no revision from before its fault: hosts record revisions with the history (with "
                + "--tracking instance or full), and retention removes them")
    }

    /// What revision `version` of instance `id` goes on as: loaded under its exact definition,
    /// then moved as asked (see `WorkflowInstance.init(continuing:of:under:as:setting:)`); and
    /// the definition the revision was saved under.
    private func continuing(
        _ id: UUID, from version: Int64, onto targetVersion: String?, as newID: UUID? = nil,
        setting changes: [String: JSONValue] = [:], catalog: DefinitionCatalog
    ) async throws(ApplicationError) -> (instance: WorkflowInstance, revisionDefinition: DefinitionIdentity) {
        let state = try await revisionState(id, version)
        guard !state.status.isFinal else {
            throw ApplicationError(
                .invalidInput,
                "revision \(version) of instance \(id) is \(state.status.rawValue): nothing is left to run from it; "
                    + "choose an earlier revision (see `wf history`)")
        }
        let identity = state.definition
        guard let source = catalog.definition(name: identity.name, version: identity.version),
            source.identity.fingerprint == identity.fingerprint
        else {
            throw ApplicationError(
                .definitionNotFound,
                "revision \(version) of instance \(id) runs \(identity), which is not among the definitions "
                    + "given; pass its file with --definitions")
        }
        var target: WorkflowDefinition?
        if let targetVersion {
            target = catalog.definition(name: identity.name, version: targetVersion)
            guard target != nil else {
                throw ApplicationError(
                    .definitionNotFound,
                    "version '\(targetVersion)' of '\(identity.name)' is not among the definitions given; pass its "
                        + "file with --definitions")
            }
        }
        do {
            let instance = try WorkflowInstance(
                continuing: state, of: source, under: target, as: newID?.uuidString, setting: changes)
            return (instance, identity)
        } catch {
            throw ApplicationError(error)
        }
    }

    private func snapshot(of instance: WorkflowInstance, suspended: Bool = false) throws(ApplicationError)
        -> InstanceSnapshot
    {
        do {
            return try instance.snapshot(suspended: suspended)
        } catch {
            throw ApplicationError(error)
        }
    }

    /// The versions the instance's history has records of, oldest first.
    private func recordedVersions(of id: UUID) async throws(ApplicationError) -> [Int64] {
        var versions: [Int64] = []
        var position: HistoryPosition?
        while true {
            let after = position
            let page = try await call { try await store.history(of: id, after: after, limit: 1000) }
            for record in page where record.version != versions.last { versions.append(record.version) }
            guard page.count == 1000, let last = page.last else { return versions }
            position = last.position
        }
    }
}
