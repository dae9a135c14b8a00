/// The position and state of a running activity, mirroring the definition's tree: a frame
/// exists only for activities that have started and not finished. Bookmarks, timers and
/// pending calls are leaves of this tree, so cancelling a branch (dropping its frame) removes
/// them with it.
public indirect enum Frame: Hashable, Sendable, Codable {
    /// The child at `index` is running.
    case sequence(index: Int, child: Frame)
    /// One entry per branch; nil once that branch has completed.
    case parallel(branches: [Frame?])
    /// Branch 0 (`then`) or 1 (`else`) is running.
    case ifElse(branch: Int, child: Frame)
    /// The body of a while loop is running.
    case whileBody(child: Frame)
    /// A durable timer, due at `due`; `fired` once the host has delivered it.
    case delay(due: Instant, fired: Bool)
    /// A persist point, waiting for the host to confirm a durable save.
    case persist(acknowledged: Bool)
    /// An open bookmark; `message` holds the delivered body until the receive completes.
    case receive(message: JSONValue?)
    /// Every trigger of a pick is waiting (one entry per branch).
    case pick(triggers: [Frame])
    /// Trigger `winner` fired; its action is running.
    case pickAction(winner: Int, child: Frame)
    /// The `try` part of a tryCatch is running.
    case tryBody(child: Frame)
    /// The `catch` part of a tryCatch is running.
    case catchBody(child: Frame)
    /// A noPersist scope's body is running.
    case noPersist(child: Frame)
    /// An asynchronous custom activity was started as call `call`; `outcome` once it returned.
    case asyncInvoke(call: Int, input: JSONValue, outcome: InvokeOutcome?)
}

/// The recorded result of an asynchronous custom activity.
public enum InvokeOutcome: Hashable, Sendable, Codable {
    case success(JSONValue)
    case failure(String)
}

extension Frame {
    /// The frames directly inside this one, each with the node it runs.
    /// Only call on a frame that ``FrameValidator`` accepted for `node`.
    func children(of node: Node) -> [(node: Node, frame: Frame)] {
        switch (self, node.kind) {
        case (.sequence(let index, let child), .sequence(let nodes)): return [(nodes[index], child)]
        case (.parallel(let branches), .parallel(let nodes)):
            return zip(nodes, branches).compactMap { node, frame in frame.map { (node, $0) } }
        case (.ifElse(let branch, let child), .ifElse(_, let then, let otherwise)):
            return [(branch == 0 ? then : otherwise ?? then, child)]
        case (.whileBody(let child), .whileLoop(_, let body)): return [(body, child)]
        case (.pick(let triggers), .pick(let branches)): return zip(branches, triggers).map { ($0.trigger, $1) }
        case (.pickAction(let winner, let child), .pick(let branches)):
            return branches[winner].action.map { [($0, child)] } ?? []
        case (.tryBody(let child), .tryCatch(let tryNode, _, _)): return [(tryNode, child)]
        case (.catchBody(let child), .tryCatch(_, let catchNode, _)): return [(catchNode, child)]
        case (.noPersist(let child), .noPersist(let body)): return [(body, child)]
        default: return []
        }
    }

    /// This frame with each direct child frame replaced by `transform(child)`, in the order
    /// ``children(of:)`` lists them.
    func mapChildren(of node: Node, _ transform: (Node, Frame) -> Frame) -> Frame {
        switch (self, node.kind) {
        case (.sequence(let index, let child), .sequence(let nodes)):
            return .sequence(index: index, child: transform(nodes[index], child))
        case (.parallel(let branches), .parallel(let nodes)):
            return .parallel(branches: zip(nodes, branches).map { node, frame in frame.map { transform(node, $0) } })
        case (.ifElse(let branch, let child), .ifElse(_, let then, let otherwise)):
            return .ifElse(branch: branch, child: transform(branch == 0 ? then : otherwise ?? then, child))
        case (.whileBody(let child), .whileLoop(_, let body)): return .whileBody(child: transform(body, child))
        case (.pick(let triggers), .pick(let branches)):
            return .pick(triggers: zip(branches, triggers).map { transform($0.trigger, $1) })
        case (.pickAction(let winner, let child), .pick(let branches)):
            guard let action = branches[winner].action else { return self }
            return .pickAction(winner: winner, child: transform(action, child))
        case (.tryBody(let child), .tryCatch(let tryNode, _, _)): return .tryBody(child: transform(tryNode, child))
        case (.catchBody(let child), .tryCatch(_, let catchNode, _)):
            return .catchBody(child: transform(catchNode, child))
        case (.noPersist(let child), .noPersist(let body)): return .noPersist(child: transform(body, child))
        default: return self
        }
    }

    /// Visits every frame in this tree, depth first in document order.
    func forEach(node: Node, _ visit: (Node, Frame) -> Void) {
        visit(node, self)
        for (childNode, childFrame) in children(of: node) { childFrame.forEach(node: childNode, visit) }
    }
}

/// Checks that a decoded frame tree fits the definition, so that a corrupt or foreign state is
/// rejected with a clear error instead of crashing the interpreter.
enum FrameValidator {
    static func validate(_ frame: Frame, against node: Node) throws(WorkflowError) {
        do {
            try check(frame, against: node)
        } catch {
            throw WorkflowError(
                .corruptState, "the saved execution state does not fit the definition at \(error.path): \(error.detail)"
            )
        }
    }

    /// Where a frame tree does not fit a definition's activities, and how.
    struct Misfit: Error {
        var path: String
        var detail: String
    }

    /// Throws the first place, depth first, where `frame` does not fit `node`.
    static func check(_ frame: Frame, against node: Node) throws(Misfit) {
        try checkHere(frame, against: node)
        for (childNode, childFrame) in frame.children(of: node) { try check(childFrame, against: childNode) }
    }

    /// Throws unless `frame` fits `node` itself (its children unchecked): then, and only then,
    /// `frame.children(of: node)` may be called.
    static func checkHere(_ frame: Frame, against node: Node) throws(Misfit) {
        func fail(_ detail: String) -> Misfit { Misfit(path: node.path, detail: detail) }
        switch (frame, node.kind) {
        case (.sequence(let index, _), .sequence(let nodes)):
            guard nodes.indices.contains(index) else { throw fail("step \(index) of \(nodes.count)") }
        case (.parallel(let branches), .parallel(let nodes)):
            guard branches.count == nodes.count else { throw fail("\(branches.count) branches for \(nodes.count)") }
        case (.ifElse(let branch, _), .ifElse(_, _, let otherwise)):
            guard branch == 0 || (branch == 1 && otherwise != nil) else { throw fail("branch \(branch)") }
        case (.pick(let triggers), .pick(let branches)):
            guard triggers.count == branches.count else {
                throw fail("\(triggers.count) triggers for \(branches.count)")
            }
        case (.pickAction(let winner, _), .pick(let branches)):
            guard branches.indices.contains(winner), branches[winner].action != nil else {
                throw fail("winner \(winner)")
            }
        case (.whileBody, .whileLoop), (.tryBody, .tryCatch), (.catchBody, .tryCatch), (.noPersist, .noPersist),
            (.delay, .delay), (.persist, .persist), (.receive, .receive):
            break
        case (.asyncInvoke(let call, _, _), .invoke):
            guard call >= 0 else { throw fail("call \(call)") }
        default:
            throw fail("found a \(frame.kindName) frame on a \(node.kindName) activity")
        }
    }
}

extension Frame {
    var kindName: String {
        switch self {
        case .sequence: "sequence"
        case .parallel: "parallel"
        case .ifElse: "if"
        case .whileBody: "while"
        case .delay: "delay"
        case .persist: "persist"
        case .receive: "receive"
        case .pick, .pickAction: "pick"
        case .tryBody, .catchBody: "tryCatch"
        case .noPersist: "noPersist"
        case .asyncInvoke: "invoke"
        }
    }
}

extension Node {
    /// The activity's kind, as its path ends: `body.sequence[2].writeLine` is a `writeLine`.
    var kindName: String { path.split(separator: ".").last.map(String.init) ?? path }
}
