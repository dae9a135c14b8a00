/// How a state blob is stored in its row. Recorded per row, so changing the store's option
/// never strands rows written under the old one.
public enum StateEncoding: String, Sendable, Hashable, Codable, CaseIterable {
    /// Plain bytes.
    case none
    /// zlib deflate with a gzip header and trailer (RFC 1952).
    case gzip
}

/// The store's encoding option for new saves.
public struct StateEncodingOptions: Sendable, Hashable {
    /// The encoding for states at or above `compressionThreshold` bytes.
    public var encoding: StateEncoding
    /// States smaller than this many bytes are stored plain whatever `encoding` says.
    public var compressionThreshold: Int

    public init(encoding: StateEncoding = .gzip, compressionThreshold: Int = 1024) {
        self.encoding = encoding
        self.compressionThreshold = compressionThreshold
    }

    /// No compression at all.
    public static let none = StateEncodingOptions(encoding: .none, compressionThreshold: 0)
}
