/// The life-cycle status of a workflow instance, as stored.
public enum InstanceStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case running
    case idle
    case completed
    case faulted
    case canceled
    case terminated

    /// Whether the instance has finished and will never run again.
    public var isFinished: Bool {
        switch self {
        case .running, .idle: false
        case .completed, .faulted, .canceled, .terminated: true
        }
    }

    /// The statuses of finished instances.
    public static let finished: Set<InstanceStatus> = [.completed, .faulted, .canceled, .terminated]

    init(stored raw: String) throws {
        guard let status = InstanceStatus(rawValue: raw) else {
            throw InstanceStoreError(
                .corruptState,
                "Stored status '\(raw)' is not a known instance status; the row was written by a "
                    + "newer or foreign build. Upgrade Steadfast or repair the row."
            )
        }
        self = status
    }
}
