import Foundation

extension UUID {
    /// A new instance id whose first 48 bits are the time in milliseconds (RFC 9562 version 7),
    /// the rest random. Ids made later sort later, as text too, so the rows a store writes for
    /// new and busy instances (their row, their history) land on the same few index pages
    /// instead of one random page each: far fewer pages to write at every commit.
    public static func timeOrdered(at date: Date = Date()) -> UUID {
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var bytes = UUID().uuid
        bytes.0 = UInt8(truncatingIfNeeded: milliseconds >> 40)
        bytes.1 = UInt8(truncatingIfNeeded: milliseconds >> 32)
        bytes.2 = UInt8(truncatingIfNeeded: milliseconds >> 24)
        bytes.3 = UInt8(truncatingIfNeeded: milliseconds >> 16)
        bytes.4 = UInt8(truncatingIfNeeded: milliseconds >> 8)
        bytes.5 = UInt8(truncatingIfNeeded: milliseconds)
        bytes.6 = (bytes.6 & 0x0F) | 0x70  // version 7
        bytes.8 = (bytes.8 & 0x3F) | 0x80  // the RFC 9562 variant
        return UUID(uuid: bytes)
    }
}
