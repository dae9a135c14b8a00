import Testing

/// Waits up to `seconds` for `condition`, failing the test if it never holds: for behaviour
/// across tasks and processes (a host applying what another sent), not for timings.
public func eventually(
    seconds: Int = 15, _ condition: () async throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    try #require(Bool(false), "condition not met within \(seconds) s", sourceLocation: sourceLocation)
}
