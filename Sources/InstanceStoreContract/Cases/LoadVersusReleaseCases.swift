import Foundation
import SteadfastCore
import SteadfastStore
import Testing

/// A load racing the holder's release: the load either waits its turn and wins, or is told
/// the instance is locked — never `lockLost`, which would make an operator think a command it
/// stored was lost (`wf terminate` against a host that applied it at that moment).
enum LoadVersusReleaseCases {
    @Sendable static func loadRacingTheHoldersSave(_ fixture: ContractFixture) async throws {
        let holderStore = try await fixture.openStore()
        let loaderStore = try await fixture.database.openStore(options: fixture.options())
        let holder = try await holderStore.createLockOwner(hostID: "holder", lockDuration: .seconds(600))
        let loader = try await loaderStore.createLockOwner(hostID: "operator", lockDuration: .seconds(600))
        var outcomes: [String: Int] = [:]
        for round in 0..<60 {
            let record = try await fixture.create(in: holderStore, owner: holder)
            let snapshot = ContractFixture.snapshot(state: ContractFixture.state(size: 64, seed: UInt8(round % 200)))
            async let saved = holderStore.save(
                SaveRequest(
                    instanceID: record.id, owner: holder.id, expectedVersion: record.version, snapshot: snapshot,
                    lockAction: .unlock))
            async let load = Result(catching: { try await loaderStore.loadInstance(record.id, owner: loader.id) })
            _ = try await saved
            switch await load {
            case .success(let loaded):
                outcomes["loaded", default: 0] += 1
                #expect(loaded.record.summary.lock?.ownerID == loader.id)
                #expect(try await loaderStore.releaseLock(of: record.id, owner: loader.id))
            case .failure(let error as InstanceStoreError) where error.code == .instanceLocked:
                outcomes["locked", default: 0] += 1
            case .failure(let error):
                Issue.record("round \(round): the load racing the holder's release failed with \(error)")
            }
        }
        #expect(outcomes.values.reduce(0, +) == 60, "\(outcomes)")
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
