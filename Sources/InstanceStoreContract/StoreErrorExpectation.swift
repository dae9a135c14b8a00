import SteadfastCore
import SteadfastStore
import Testing

/// Expects `body` to throw an `InstanceStoreError` with `code`; returns it for further checks.
@discardableResult
public func expectStoreError<T>(
    _ code: InstanceStoreError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async -> InstanceStoreError? {
    do {
        let value = try await body()
        Issue.record("Expected \(code.rawValue), but the call returned \(value)", sourceLocation: sourceLocation)
        return nil
    } catch let error as InstanceStoreError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("Expected InstanceStoreError \(code.rawValue), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
