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
        case assign(AssignmentTarget, Expression)
        case ifElse(Expression, then: Node, else: Node?)
        case whileLoop(Expression, body: Node)
        case delay(DelayTime)
        case persist
        case receive(ReceiveSpec)
        case pick([PickBranch])
        case writeLine(Expression)
        case invoke(name: String, input: Expression?, assignTo: AssignmentTarget?)
        case terminate(Expression)
        case throwFault(Expression)
        case tryCatch(try: Node, catch: Node, errorTo: AssignmentTarget?)
        case noPersist(Node)
    }

    enum DelayTime: Sendable {
        case duration(ISODuration)
        case until(Expression)
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
