import ServiceLifecycle

/// A host runs as a swift-service-lifecycle `Service`: started by its `ServiceGroup`, it works
/// until graceful shutdown (SIGTERM/SIGINT, or a sibling service ending), then saves and
/// unlocks what it holds and returns; no task of its own outlives `run()`.
extension WorkflowHost: Service {
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await stop()
    }
}
