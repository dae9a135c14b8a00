/// What the host learns after each run of an instance.
public struct RunResult: Sendable {
    public var status: InstanceStatus
    public var bookmarks: [Bookmark]
    /// The earliest pending timer.
    public var nextTimer: Instant?
    /// A persist point was reached: save the instance durably, then call
    /// ``WorkflowInstance/acknowledgePersist(now:)`` before it may go on.
    public var persistRequested: Bool
    /// False inside a noPersist scope or while an async custom activity runs: do not save now.
    public var canPersist: Bool
    /// Async custom activities started during this run; the host runs them and reports back.
    public var asyncCalls: [AsyncCall]
    /// Lines written by writeLine activities during this run.
    public var lines: [String]
    /// The final variables, when the instance completed.
    public var outputs: [String: JSONValue]?
    public var fault: WorkflowFault?
    public var terminationReason: String?
    /// Activities started, completed, faulted or canceled during this run (when tracing is on).
    public var trace: [TraceEvent]

    public init(
        status: InstanceStatus, bookmarks: [Bookmark] = [], nextTimer: Instant? = nil, persistRequested: Bool = false,
        canPersist: Bool = true, asyncCalls: [AsyncCall] = [], lines: [String] = [],
        outputs: [String: JSONValue]? = nil, fault: WorkflowFault? = nil, terminationReason: String? = nil,
        trace: [TraceEvent] = []
    ) {
        self.status = status
        self.bookmarks = bookmarks
        self.nextTimer = nextTimer
        self.persistRequested = persistRequested
        self.canPersist = canPersist
        self.asyncCalls = asyncCalls
        self.lines = lines
        self.outputs = outputs
        self.fault = fault
        self.terminationReason = terminationReason
        self.trace = trace
    }

    /// Appends what a later run reported to what this one did.
    public mutating func append(_ later: RunResult) {
        let earlierLines = lines
        let earlierTrace = trace
        let earlierCalls = asyncCalls
        self = later
        lines = earlierLines + later.lines
        trace = earlierTrace + later.trace
        asyncCalls = earlierCalls + later.asyncCalls
    }
}
