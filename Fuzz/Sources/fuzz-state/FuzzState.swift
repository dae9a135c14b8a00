import Foundation
import FuzzSupport
import SteadfastCore
import SteadfastStore

/// libFuzzer entry point: bytes → the state decoders.
///
/// - `InstanceState.decode` must give a state or a `WorkflowError`; a decoded state must encode
///   and decode to itself.
/// - When the state names one of the sample definitions, it is loaded against it (with the
///   sample's identity, so a mutated fingerprint still reaches the frame validator) and, if
///   it loads, run on.
/// - `StateCodec.decode` (the store's row decoder) must give bytes or an `InstanceStoreError`
///   for both encodings; what it gives is decoded as a state too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzSupport.data(data, size)
    check(bytes)
    for encoding in ["none", "gzip"] {
        if let (plain, _) = try? StateCodec.decode(bytes, encoding: encoding), plain != bytes {
            check(plain)
        }
    }
    return 0
}

private func check(_ bytes: Data) {
    guard var state = try? InstanceState.decode(bytes) else { return }
    // `try?`: encoding may refuse a state past the depth limit (and older builds never throw).
    guard let encoded = try? state.encoded() else { return }
    guard let again = try? InstanceState.decode(encoded) else {
        fatalError("a decoded state's encoding does not decode:\n\(String(decoding: encoded, as: UTF8.self))")
    }
    if again != state {
        fatalError("a decoded state changes in an encode/decode round trip:\n\(String(decoding: encoded, as: UTF8.self))")
    }
    guard let definition = FuzzSupport.samples[state.definition.name] else { return }
    state.definition = definition.identity
    guard var instance = try? WorkflowInstance(definition: definition, state: state) else { return }
    FuzzSupport.exercise(&instance)
}

/// Writes seed states to `directory`: each sample new, after its first run and after each
/// message, plain (`.json`) and gzip-compressed (`.gz`). Returns how many files it wrote.
func writeSeeds(to directory: String) -> Int {
    var written = 0
    func save(_ state: InstanceState, _ name: String) {
        guard let plain = try? state.encoded() else { return }
        try! plain.write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(name).json"))
        let gzip = try! StateCodec(options: StateEncodingOptions(encoding: .gzip, compressionThreshold: 0)).encode(plain)
        try! gzip.bytes.write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(name).gz"))
        written += 2
    }
    for (name, definition) in FuzzSupport.samples.sorted(by: { $0.key < $1.key }) {
        guard var instance = try? WorkflowInstance(definition: definition, instanceID: "seed-\(name)") else { continue }
        save(instance.state, "\(name)-new")
        var result = instance.run(now: FuzzSupport.now)
        save(instance.state, "\(name)-1")
        if result.persistRequested { result = instance.acknowledgePersist(now: FuzzSupport.now) }
        var step = 2
        while let bookmark = result.bookmarks.first, !result.status.isFinal, step < 5 {
            let message: JSONValue = ["orderId": "o-1", "id": 1, "approved": true, "amount": 12.5]
            guard let next = try? instance.resume(operation: bookmark.operation, message: message, now: FuzzSupport.now)
            else { break }
            result = next
            if result.persistRequested { result = instance.acknowledgePersist(now: FuzzSupport.now) }
            save(instance.state, "\(name)-\(step)")
            step += 1
        }
    }
    return written
}
