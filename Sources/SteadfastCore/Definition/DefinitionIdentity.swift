/// Which definition an instance belongs to: its name and version, plus a fingerprint of its
/// content so that a definition edited without a new version is never resumed silently.
public struct DefinitionIdentity: Hashable, Sendable, Codable, CustomStringConvertible {
    public var name: String
    public var version: String
    /// A hash of the definition's canonical JSON.
    public var fingerprint: String

    public init(name: String, version: String, fingerprint: String) {
        self.name = name
        self.version = version
        self.fingerprint = fingerprint
    }

    public var description: String { "'\(name)' version '\(version)' (fingerprint \(fingerprint))" }
}

/// A short stable hash of a text (of a definition's canonical JSON, of a request).
public enum Fingerprint {
    /// FNV-1a, 64 bits, as 16 hex digits: stable across processes and platforms.
    public static func of(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
