import CLibPQ
import Foundation
import Logging
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

    /// The notifications (and reconnections) counted.
    private let changes = ChangeSignal()
    private let stopping = Atomic(false)
    private let conninfo: String
    private let logger: Logger
    /// The first connection, made by `init` (so a wrong connection string fails there) and
    /// handed to the thread. `nonisolated(unsafe)` is safe: only the listener thread uses it,
    /// and it starts after the initializer has set it.
    private nonisolated(unsafe) let initial: PostgresConnection

    /// Connects and starts listening (a connection error is thrown here, not later).
    init(conninfo: String, logger: Logger) throws {
        self.conninfo = conninfo
        self.logger = logger
        self.initial = try Self.listeningConnection(conninfo)
        let thread = Thread { [self] in run(initial) }
        thread.name = "steadfast-postgres-listen"
        thread.start()
    }

    /// How many notifications (and reconnections) there have been.
    var count: Int64 { changes.count }

    /// Returns once the count differs from `token`, or after `timeout`.
    func wait(after token: Int64, timeout: Duration) async {
        await changes.wait(after: token, timeout: timeout)
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        changes.stop()
    }

    private func signal() { changes.signal() }

    private static func listeningConnection(_ conninfo: String) throws -> PostgresConnection {
        let connection = try PostgresConnection(conninfo: conninfo)
        try connection.executeScript("LISTEN \(channel)")
        return connection
    }

    /// Waits on the socket (a quarter second at a time, to notice `stop`), drains notifications.
    private func run(_ first: PostgresConnection) {
        var connection: PostgresConnection? = first
        var lostAt: ContinuousClock.Instant?
        while !stopping.load(ordering: .relaxed) {
            guard let current = connection, let handle = current.connection, !current.isBroken else {
                if lostAt == nil {
                    lostAt = .now
                    logger.warning(
                        "lost the connection that listens for work notifications; polling goes on, reconnecting")
                }
                connection?.close()
                connection = nil
                Thread.sleep(forTimeInterval: 0.25)
                connection = try? Self.listeningConnection(conninfo)
                if connection != nil {
                    signal()
                    logger.notice(
                        "listening for work notifications again (lost for \((lostAt ?? .now).duration(to: .now)))")
                    lostAt = nil
                }
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
