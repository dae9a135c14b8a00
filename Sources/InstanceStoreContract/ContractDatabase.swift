import Foundation
import SteadfastCore
import SteadfastStore

/// One empty database a store's test target provides to the contract suite.
public protocol ContractDatabase: Sendable {
    /// Opens a store on this database (several may be open at once, like several hosts).
    func openStore(options: InstanceStoreOptions) async throws -> any InstanceStore

    /// Overwrites an instance's stored state bytes and encoding name behind the store's back,
    /// to test how the store handles a damaged row.
    func overwriteStoredState(of id: UUID, bytes: Data, encoding: String) async throws

    /// Overwrites an instance's stored status text behind the store's back (a value no build
    /// knows, to test that one such row spoils only itself).
    func overwriteStoredStatus(of id: UUID, status: String) async throws

    /// What the database holds for an instance, read behind the store's back.
    func storedRow(of id: UUID) async throws -> StoredRow?

    /// The ids of every lock-owner row.
    func lockOwnerIDs() async throws -> Set<UUID>

    /// Closes the stores and removes the database.
    func destroy() async
}

/// The raw columns of an instance row the contract checks directly.
public struct StoredRow: Sendable, Hashable {
    public var state: Data
    public var stateEncoding: String
    public var status: String
    /// Rows in the bookmarks table for the instance.
    public var bookmarkCount: Int
    /// Claims by another owner since the last successful save.
    public var claimsSinceSave: Int

    public init(state: Data, stateEncoding: String, status: String, bookmarkCount: Int, claimsSinceSave: Int) {
        self.state = state
        self.stateEncoding = stateEncoding
        self.status = status
        self.bookmarkCount = bookmarkCount
        self.claimsSinceSave = claimsSinceSave
    }
}

/// Makes a fresh, empty database for each contract case.
public typealias ContractDatabaseFactory = @Sendable () async throws -> any ContractDatabase
