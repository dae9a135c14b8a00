import Foundation
import SteadfastCore
import SteadfastStore

/// The contract every instance store passes. A store's test target runs every case:
///
/// ```swift
/// @Test(arguments: InstanceStoreContract.Case.allCases)
/// func contract(_ contractCase: InstanceStoreContract.Case) async throws {
///     try await InstanceStoreContract(makeDatabase: { try await MyDatabase() }).run(contractCase)
/// }
/// ```
public struct InstanceStoreContract: Sendable {
    /// The cases; each runs on its own fresh database.
    public enum Case: String, CaseIterable, Sendable, CustomStringConvertible {
        case lockOwnerLifecycle
        case createLoadSaveRoundTrip
        case loadByKey
        case lockedInstance
        case saveAfterLosingLock
        case staleVersion
        case keyConflict
        case runnableInstances
        case runnableInstancesInBatches
        case nextTimerDueTime
        case messagesConsumedOnce
        case completionDeleteAll
        case completionDeleteNothing
        case stateEncoding
        case corruptState
        case listAndQuery
        case deleteAndPurge
        case corruptRowFaultsOnlyItself
        case unknownStatusSpoilsOnlyItself
        case expiredOwnersRemoved
        case nextDueTimeWithClaim
        case stateSizeLimit
        case quarantine
        case poisonMessagesKept
        case claimWithLookahead
        case concurrentLoad
        case concurrentSave
        case concurrentClaims
        case concurrentEnqueueWithClientID
        case concurrentDeleteVersusLoadAndEnqueue
        case concurrentPurgeVersusClaim
        case concurrentSaveCompletionVersusEnqueue
        case loadRacingTheHoldersSave
        case mixedBatches
        case idempotentCreate
        case history
        case restoreFromHistory
        case historyActivities

        public var description: String { rawValue }
    }

    let makeDatabase: ContractDatabaseFactory

    public init(makeDatabase: @escaping ContractDatabaseFactory) {
        self.makeDatabase = makeDatabase
    }

    public func run(_ contractCase: Case) async throws {
        let database = try await makeDatabase()
        let fixture = ContractFixture(database: database)
        do {
            try await body(of: contractCase)(fixture)
        } catch {
            await database.destroy()
            throw error
        }
        await database.destroy()
    }

    private func body(of contractCase: Case) -> @Sendable (ContractFixture) async throws -> Void {
        switch contractCase {
        case .lockOwnerLifecycle: LockOwnerCases.lifecycle
        case .createLoadSaveRoundTrip: RoundTripCases.createLoadSave
        case .loadByKey: RoundTripCases.loadByKey
        case .lockedInstance: LockCases.lockedInstance
        case .saveAfterLosingLock: LockCases.saveAfterLosingLock
        case .staleVersion: LockCases.staleVersion
        case .keyConflict: KeyCases.keyConflict
        case .runnableInstances: RunnableCases.runnableInstances
        case .runnableInstancesInBatches: RunnableCases.runnableInstancesInBatches
        case .nextTimerDueTime: RunnableCases.nextTimerDueTime
        case .messagesConsumedOnce: MessageCases.consumedOnce
        case .completionDeleteAll: CompletionCases.deleteAll
        case .completionDeleteNothing: CompletionCases.deleteNothing
        case .stateEncoding: EncodingCases.stateEncoding
        case .corruptState: EncodingCases.corruptState
        case .listAndQuery: AdminCases.listAndQuery
        case .deleteAndPurge: AdminCases.deleteAndPurge
        case .corruptRowFaultsOnlyItself: RobustnessCases.corruptRowFaultsOnlyItself
        case .unknownStatusSpoilsOnlyItself: RobustnessCases.unknownStatusSpoilsOnlyItself
        case .expiredOwnersRemoved: RobustnessCases.expiredOwnersRemoved
        case .nextDueTimeWithClaim: RobustnessCases.nextDueTimeWithClaim
        case .stateSizeLimit: RobustnessCases.stateSizeLimit
        case .quarantine: RobustnessCases.quarantine
        case .poisonMessagesKept: RobustnessCases.poisonMessagesKept
        case .claimWithLookahead: RobustnessCases.claimWithLookahead
        case .concurrentLoad: ConcurrencyCases.concurrentLoad
        case .concurrentSave: ConcurrencyCases.concurrentSave
        case .concurrentClaims: ConcurrencyCases.concurrentClaims
        case .concurrentEnqueueWithClientID: ConcurrencyCases.concurrentEnqueueWithClientID
        case .concurrentDeleteVersusLoadAndEnqueue: ConcurrencyCases.concurrentDeleteVersusLoadAndEnqueue
        case .concurrentPurgeVersusClaim: ConcurrencyCases.concurrentPurgeVersusClaim
        case .mixedBatches: ConcurrencyCases.mixedBatches
        case .concurrentSaveCompletionVersusEnqueue: ConcurrencyCases.concurrentSaveCompletionVersusEnqueue
        case .loadRacingTheHoldersSave: LoadVersusReleaseCases.loadRacingTheHoldersSave
        case .idempotentCreate: IdempotencyCases.createdOncePerKey
        case .history: HistoryCases.recordedWithSaves
        case .restoreFromHistory: HistoryCases.restoredFromHistory
        case .historyActivities: HistoryCases.activitiesAreReadOneByOne
        }
    }
}
