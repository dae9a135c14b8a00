import CLibPQ
import Foundation
import SteadfastStore
import Synchronization

/// A connection of its own that LISTENs on `steadfast_work` on a dedicated thread and counts
/// the notifications: the count is the store's change token, so a host learns of work another
/// host made runnable without a query, and a waiting host wakes at once.
///
/// Lost connections are re-established (counting one change: notifications may have been
/// missed meanwhile, so the next look reads the database).
final class PostgresListener: Sendable {
    static let channel = "steadfast_work"

    private struct State {
        var count: Int64 = 0
        var stopping = false
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())
    private let conninfo: String
    /// The first connection, made by `init` (so a wrong connection string fails there) and
    /// handed to the thread. `nonisolated(unsafe)` is safe: only the listener thread uses it,
    /// and it starts after the initializer has set it.
    private nonisolated(unsafe) let initial: PostgresConnection

    /// Connects and starts listening (a connection error is thrown here, not later).
    init(conninfo: String) throws {
        self.conninfo = conninfo
        self.initial = try Self.listeningConnection(conninfo)
        let thread = Thread { [self] in run(initial) }
        thread.name = "steadfast-postgres-listen"
        thread.start()
    }

    /// How many notifications (and reconnections) there have been.
    var count: Int64 { state.withLock { $0.count } }

    /// Returns once the count differs from `token`, or after `timeout`.
    func wait(after token: Int64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.notification(after: token) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns at the next notification (at once if the count already differs from `token`), or
    /// when the task is cancelled — even if that happens before the waiter is registered.
    private func notification(after token: Int64) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    guard state.count == token, !state.stopping, !Task.isCancelled else { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            resume(id)
        }
    }

    func stop() {
        let waiters = state.withLock { state in
            state.stopping = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    private func resume(_ id: UUID) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }

    private func signal() {
        let waiters = state.withLock { state in
            state.count += 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    private var stopping: Bool { state.withLock { $0.stopping } }

    private static func listeningConnection(_ conninfo: String) throws -> PostgresConnection {
        let connection = try PostgresConnection(conninfo: conninfo)
        try connection.executeScript("LISTEN \(channel)")
        return connection
    }

    /// Waits on the socket (a quarter second at a time, to notice `stop`), drains notifications.
    private func run(_ first: PostgresConnection) {
        var connection: PostgresConnection? = first
        while !stopping {
            guard let current = connection, let handle = current.connection, !current.isBroken else {
                connection?.close()
                connection = nil
                Thread.sleep(forTimeInterval: 0.25)
                connection = try? Self.listeningConnection(conninfo)
                if connection != nil { signal() }
                continue
            }
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 250) >= 0 else { continue }
            guard PQconsumeInput(handle) == 1 else {
                current.close()
                continue
            }
            var received = false
            while let notification = PQnotifies(handle) {
                received = true
                PQfreemem(notification)
            }
            if received { signal() }
        }
        connection?.close()
    }
}
