import InstanceStoreContract
import Testing

/// The shared instance-store contract, unchanged, against a fresh PostgreSQL database per case.
@Suite("PostgreSQL store contract", .enabled(if: PostgresTestServer.enabled))
struct PostgresContractTests {
    @Test(arguments: InstanceStoreContract.Case.allCases)
    func contract(_ contractCase: InstanceStoreContract.Case) async throws {
        try await InstanceStoreContract(makeDatabase: { try PostgresContractDatabase() }).run(contractCase)
    }
}
