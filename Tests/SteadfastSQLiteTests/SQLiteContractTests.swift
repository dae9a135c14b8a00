import InstanceStoreContract
import Testing

/// The shared instance-store contract, run against a temporary SQLite file per case.
@Suite("SQLite store contract")
struct SQLiteContractTests {
    @Test(arguments: InstanceStoreContract.Case.allCases)
    func contract(_ contractCase: InstanceStoreContract.Case) async throws {
        try await InstanceStoreContract(makeDatabase: { try SQLiteContractDatabase() }).run(contractCase)
    }
}
