import Foundation

extension UUID {
    /// The id as lowercase text (`0814f042-4ee3-…`), as stores keep ids.
    public var lowercasedText: String { text(digits: "0123456789abcdef") }

    /// The id as uppercase text, like `uuidString`.
    public var uppercasedText: String { text(digits: "0123456789ABCDEF") }

    /// Written directly from the bytes: `uuidString` formats with `snprintf` (and
    /// `lowercased()` copies again), a few percent of a save's CPU, since every statement that
    /// names an instance and every host event does it.
    private func text(digits: StaticString) -> String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { output in
                digits.withUTF8Buffer { hex in
                    var position = 0
                    for (index, byte) in bytes.enumerated() {
                        if index == 4 || index == 6 || index == 8 || index == 10 {
                            output[position] = UInt8(ascii: "-")
                            position += 1
                        }
                        output[position] = hex[Int(byte >> 4)]
                        output[position + 1] = hex[Int(byte & 0x0F)]
                        position += 2
                    }
                    return position
                }
            }
        }
    }
}
