import Foundation
import FuzzSupport
import SteadfastCore

/// libFuzzer entry point: bytes → the JSON definition reader (what `wf validate` calls).
///
/// A rejected definition must report at least one problem; an accepted one must survive its
/// own `jsonValue` round trip with the same identity, and an instance of it must run without
/// crashing (faults are fine).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzSupport.data(data, size)
    let definition: WorkflowDefinition
    do {
        definition = try WorkflowDefinition(json: bytes, registry: FuzzSupport.registry, checkInvokes: false)
    } catch {
        if error.problems.isEmpty { fatalError("a rejected definition reported no problem") }
        for problem in error.problems { _ = problem.description }
        return 0
    }
    let again: WorkflowDefinition
    do {
        again = try WorkflowDefinition(
            document: definition.jsonValue, registry: FuzzSupport.registry, checkInvokes: false)
    } catch {
        fatalError("an accepted definition's jsonValue is rejected: \(error)")
    }
    if again.identity != definition.identity {
        fatalError("a definition's identity changes in a jsonValue round trip: \(definition.identity) → \(again.identity)")
    }
    FuzzSupport.exercise(definition)
    return 0
}
