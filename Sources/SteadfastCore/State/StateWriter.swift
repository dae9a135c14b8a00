/// Writes an ``InstanceState`` as compact JSON with sorted keys, in exactly the shape Swift's
/// synthesized `Codable` gives these types (enum cases as `{"case": {labels…}}`, unlabeled
/// payloads as `_0`, nil optionals left out), so `JSONDecoder` reads it back.
///
/// Values are written with a byte limit (``WorkflowLimits/maxStateBytes`` unless told
/// otherwise): arrays that share their items are small in memory but may be enormous as text.
struct StateWriter {
    private(set) var output = ""
    private let limit: Int

    init(limit: Int = WorkflowLimits.maxStateBytes) {
        self.limit = limit
        output.reserveCapacity(1024)
    }

    mutating func write(_ state: InstanceState) throws(JSONValue.OutputLimitExceeded) {
        output += "{\"bookmarks\":["
        for (index, bookmark) in state.bookmarks.enumerated() {
            if index > 0 { output += "," }
            key("activityPath", first: true)
            string(bookmark.activityPath)
            if let correlateOn = bookmark.correlateOn {
                key("correlateOn")
                string(correlateOn)
            }
            key("createsInstance")
            output += bookmark.createsInstance ? "true" : "false"
            key("operation")
            string(bookmark.operation)
            output += "}"
        }
        output += "],\"canPersist\":\(state.canPersist),\"definition\":"
        key("fingerprint", first: true)
        string(state.definition.fingerprint)
        key("name")
        string(state.definition.name)
        key("version")
        string(state.definition.version)
        output += "}"
        if let execution = state.execution {
            key("execution")
            try frame(execution)
        }
        if let fault = state.fault {
            key("fault")
            key("activityPath", first: true)
            string(fault.activityPath)
            key("message")
            string(fault.message)
            output += "}"
        }
        output += ",\"format\":\(state.format),\"instanceID\":"
        string(state.instanceID)
        key("keys")
        try JSONValue.object(state.keys).write(to: &output, limit: limit)
        output += ",\"nextCallID\":\(state.nextCallID),\"persistPending\":\(state.persistPending)"
        output += ",\"started\":\(state.started),\"status\":"
        string(state.status.rawValue)
        if let reason = state.terminationReason {
            key("terminationReason")
            string(reason)
        }
        output += ",\"timers\":["
        for (index, timer) in state.timers.enumerated() {
            if index > 0 { output += "," }
            key("activityPath", first: true)
            string(timer.activityPath)
            output += ",\"due\":\(timer.due.millisecondsSinceEpoch)}"
        }
        output += "],\"variables\":"
        try JSONValue.object(state.variables).write(to: &output, limit: limit)
        output += "}"
    }

    private mutating func frame(_ frame: Frame) throws(JSONValue.OutputLimitExceeded) {
        switch frame {
        case .sequence(let index, let child):
            open("sequence", "child")
            try self.frame(child)
            output += ",\"index\":\(index)}}"
        case .parallel(let branches):
            open("parallel", "branches")
            output += "["
            for (index, branch) in branches.enumerated() {
                if index > 0 { output += "," }
                if let branch { try self.frame(branch) } else { output += "null" }
            }
            output += "]}}"
        case .ifElse(let branch, let child):
            open("ifElse", "branch")
            output += "\(branch),\"child\":"
            try self.frame(child)
            output += "}}"
        case .whileBody(let child): try wrap("whileBody", child)
        case .delay(let due, let fired):
            open("delay", "due")
            output += "\(due.millisecondsSinceEpoch),\"fired\":\(fired)}}"
        case .persist(let acknowledged):
            open("persist", "acknowledged")
            output += "\(acknowledged)}}"
        case .receive(let message):
            if let message {
                open("receive", "message")
                try message.write(to: &output, limit: limit)
                output += "}}"
            } else {
                output += "{\"receive\":{}}"
            }
        case .pick(let triggers):
            open("pick", "triggers")
            output += "["
            for (index, trigger) in triggers.enumerated() {
                if index > 0 { output += "," }
                try self.frame(trigger)
            }
            output += "]}}"
        case .pickAction(let winner, let child):
            open("pickAction", "child")
            try self.frame(child)
            output += ",\"winner\":\(winner)}}"
        case .tryBody(let child): try wrap("tryBody", child)
        case .catchBody(let child): try wrap("catchBody", child)
        case .noPersist(let child): try wrap("noPersist", child)
        case .asyncInvoke(let call, let input, let outcome):
            open("asyncInvoke", "call")
            output += "\(call),\"input\":"
            try input.write(to: &output, limit: limit)
            switch outcome {
            case .success(let value)?:
                output += ",\"outcome\":{\"success\":{\"_0\":"
                try value.write(to: &output, limit: limit)
                output += "}}"
            case .failure(let message)?:
                output += ",\"outcome\":{\"failure\":{\"_0\":"
                string(message)
                output += "}}"
            case nil: break
            }
            output += "}}"
        }
    }

    /// `{"name":{"child":…}}`
    private mutating func wrap(_ name: String, _ child: Frame) throws(JSONValue.OutputLimitExceeded) {
        open(name, "child")
        try frame(child)
        output += "}}"
    }

    /// `{"name":{"field":` — the caller writes the value and closes both objects.
    private mutating func open(_ name: String, _ field: String) {
        output += "{\"\(name)\":{\"\(field)\":"
    }

    /// `,"name":` (or `{"name":` for the first field of an object).
    private mutating func key(_ name: String, first: Bool = false) {
        output += first ? "{\"\(name)\":" : ",\"\(name)\":"
    }

    private mutating func string(_ value: String) {
        JSONValue.writeQuoted(value, to: &output)
    }
}
