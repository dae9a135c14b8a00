import Foundation

/// Encodes state for a row according to the store's options, and decodes any row according to
/// the encoding recorded in it.
public struct StateCodec: Sendable, Hashable {
    public var options: StateEncodingOptions

    public init(options: StateEncodingOptions) {
        self.options = options
    }

    /// The bytes to store and the encoding to record with them.
    public func encode(_ state: Data) throws -> (bytes: Data, encoding: StateEncoding) {
        guard options.encoding == .gzip, state.count >= options.compressionThreshold else {
            return (state, .none)
        }
        return (try Gzip.compress(state), .gzip)
    }

    /// The plain state from stored bytes and their recorded encoding name; a state larger than
    /// `maxSize` bytes is refused as `corruptState` (a gzip bomb is stopped while it inflates).
    public static func decode(_ bytes: Data, encoding rawEncoding: String, maxSize: Int = .max) throws -> (
        Data, StateEncoding
    ) {
        guard let encoding = StateEncoding(rawValue: rawEncoding) else {
            throw InstanceStoreError(
                .corruptState,
                "The stored state encoding '\(rawEncoding)' is unknown; the row was written by a "
                    + "newer or foreign build. Upgrade Steadfast or repair the row."
            )
        }
        switch encoding {
        case .none:
            guard bytes.count <= maxSize else {
                throw InstanceStoreError(
                    .corruptState,
                    "The stored instance state is \(bytes.count) bytes, more than the store's limit of \(maxSize) "
                        + "bytes (maxStateSize); it was not loaded. Open the store with a higher maxStateSize to "
                        + "load it, or delete the instance.")
            }
            return (bytes, .none)
        case .gzip: return (try Gzip.decompress(bytes, maxOutputSize: maxSize), .gzip)
        }
    }
}
