import Foundation
import Logging
import SteadfastPostgres
import SteadfastSQLite
import SteadfastStore

/// How durable a commit is before it returns.
public enum Durability: String, Sendable, Hashable, CaseIterable {
    /// Every commit reaches the disk (SQLite `synchronous=FULL`, PostgreSQL `synchronous_commit=on`).
    case full
    /// Faster; a power cut may lose the last commits, a process crash loses nothing.
    case normal
}

/// How to open an instance store: its URL and the options every store takes. The one place that
/// knows which store serves which URL scheme.
public struct StoreConfiguration: Sendable {
    /// `sqlite:PATH`, `sqlite::memory:`, `postgres://…`, or `postgres:KEY=VALUE …`.
    public var url: String
    public var encoding: StateEncoding
    /// States smaller than this many bytes are stored plain.
    public var compressionThreshold: Int
    /// How durable a commit is before it returns.
    public var durability: Durability
    /// Claims without a save before an instance is quarantined (faulted, its state kept); 0
    /// never quarantines.
    public var quarantineAfter: Int
    /// The largest serialized state, in bytes, the store writes or reads.
    public var maxStateSize: Int
    public var clock: StoreClock
    /// Where the store logs lost and re-established connections (`wf serve`: its log).
    public var logger = Logger(label: "steadfast.store", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The store URL used when none is given: `$STEADFAST_STORE`, else `sqlite:steadfast.db`.
    public static var defaultURL: String {
        let fromEnvironment = ProcessInfo.processInfo.environment["STEADFAST_STORE"] ?? ""
        return fromEnvironment.trimmingCharacters(in: .whitespaces).isEmpty ? "sqlite:steadfast.db" : fromEnvironment
    }

    public init(
        url: String = StoreConfiguration.defaultURL, encoding: StateEncoding = .gzip, compressionThreshold: Int = 1024,
        durability: Durability = .full, quarantineAfter: Int = InstanceStoreOptions.defaultQuarantineAfter,
        maxStateSize: Int = InstanceStoreOptions.defaultMaxStateSize, clock: @escaping StoreClock = { Date() }
    ) {
        self.url = url
        self.encoding = encoding
        self.compressionThreshold = compressionThreshold
        self.durability = durability
        self.quarantineAfter = quarantineAfter
        self.maxStateSize = maxStateSize
        self.clock = clock
    }

    /// Opens the store. With `mustExist`, a SQLite file that is not there is an error rather than
    /// a new, empty store: inspecting or changing instances in the wrong folder should say so.
    public func open(mustExist: Bool = false) async throws(ApplicationError) -> any InstanceStore {
        do {
            let location = try StoreLocation(parsing: url)
            guard compressionThreshold >= 0 else {
                throw ApplicationError(
                    .invalidInput, "the compression threshold must be 0 or more bytes, not \(compressionThreshold)")
            }
            guard quarantineAfter >= 0 else {
                throw ApplicationError(
                    .invalidInput, "the quarantine limit must be 0 (never) or more claims, not \(quarantineAfter)")
            }
            guard maxStateSize > 0 else {
                throw ApplicationError(
                    .invalidInput, "the state size limit must be at least 1 byte, not \(maxStateSize)")
            }
            let options = InstanceStoreOptions(
                encoding: StateEncodingOptions(encoding: encoding, compressionThreshold: compressionThreshold),
                clock: clock, maxStateSize: maxStateSize, quarantineAfter: quarantineAfter, logger: logger)
            switch location {
            case .postgres:
                return try await PostgresInstanceStore(
                    location: location, options: options,
                    postgresOptions: PostgresStoreOptions(synchronousCommit: durability == .full))
            case .sqliteFile(let path):
                if mustExist && !FileManager.default.fileExists(atPath: path) {
                    throw ApplicationError(
                        .storeNotFound,
                        "there is no store at '\(path)' (store \(url)); name an existing store with --store "
                            + "sqlite:PATH, or set STEADFAST_STORE.")
                }
                fallthrough
            case .sqliteMemory:
                return try await SQLiteInstanceStore(
                    location: location, options: options,
                    sqliteOptions: SQLiteStoreOptions(synchronous: durability == .full ? .full : .normal))
            }
        } catch {
            throw ApplicationError(error)
        }
    }
}
