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

    /// Closes the stores and removes the database.
    func destroy() async
}

/// Makes a fresh, empty database for each contract case.
public typealias ContractDatabaseFactory = @Sendable () async throws -> any ContractDatabase
