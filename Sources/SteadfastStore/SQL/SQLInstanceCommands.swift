import Foundation

/// The store commands written once, over the driver seam.
///
/// Each method runs its statements on the connection it is given and must be called inside a
/// transaction (or savepoint) that the store rolls back when the method throws: the commands
/// check before they write, but a late failure (a key conflict after the row update) relies on
/// that rollback to leave nothing changed. Time comes from `options.clock`, read once per call.
public struct SQLInstanceCommands: Sendable {
    public var options: InstanceStoreOptions
    let codec: StateCodec

    public init(options: InstanceStoreOptions) {
        self.options = options
        self.codec = StateCodec(options: options.encoding)
    }

    var now: Date { options.clock() }
}
