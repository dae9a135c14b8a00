/// A compiled activity: expressions parsed and checked, located by its path in the definition.
/// Immutable and shared by every instance of the definition.
final class Node: Sendable {
    let path: String
    let kind: Kind

    init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    enum Kind: Sendable {
        case sequence([Node])
        case parallel([Node])
        case assign(AssignmentTarget, WorkflowExpression)
        case ifElse(WorkflowExpression, then: Node, else: Node?)
        case whileLoop(WorkflowExpression, body: Node)
        case delay(DelayTime)
        case persist
        case receive(ReceiveSpec)
        case pick([PickBranch])
        case writeLine(WorkflowExpression)
        case invoke(name: String, input: WorkflowExpression?, assignTo: AssignmentTarget?)
        case terminate(WorkflowExpression)
        case throwFault(WorkflowExpression)
        case tryCatch(try: Node, catch: Node, errorTo: AssignmentTarget?)
        case noPersist(Node)
    }

    enum DelayTime: Sendable {
        case duration(ISODuration)
        case until(WorkflowExpression)
    }

    struct ReceiveSpec: Sendable {
        let operation: String
        let correlateOn: String?
        let createsInstance: Bool
        let assignTo: AssignmentTarget?
    }

    struct PickBranch: Sendable {
        let trigger: Node
        let action: Node?
    }
}
