import CZlib
import Foundation

/// gzip compression and decompression over zlib, streaming through fixed-size chunks so large
/// buffers never need one giant output allocation guess.
public enum Gzip {
    static let chunkSize = 64 * 1024

    /// Compresses `data` into a gzip stream at zlib `level` (0...9; -1 is zlib's default, 6).
    public static func compress(_ data: Data, level: Int32 = -1) throws -> Data {
        var stream = z_stream()
        guard steadfast_deflate_init_gzip(&stream, level) == Z_OK else {
            throw InstanceStoreError(
                .storeUnavailable,
                "zlib could not start compressing (out of memory?). Retry, or set the state "
                    + "encoding to none."
            )
        }
        defer { deflateEnd(&stream) }
        var output = Data()
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        var input = [UInt8](data)
        let status: Int32 = input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            var result: Int32 = Z_OK
            repeat {
                result = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = uInt(chunkBuffer.count)
                    return deflate(&stream, Z_FINISH)
                }
                let produced = chunkSize - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
            } while result == Z_OK
            return result
        }
        guard status == Z_STREAM_END else {
            throw InstanceStoreError(
                .storeUnavailable,
                "zlib failed to compress the state (status \(status)). Retry, or set the state "
                    + "encoding to none."
            )
        }
        return output
    }

    /// Decompresses a complete gzip stream; a truncated or corrupt stream, or one that would
    /// decompress to more than `maxOutputSize` bytes (a gzip bomb), throws `corruptState`. The
    /// output never grows past the limit plus one chunk.
    public static func decompress(_ data: Data, maxOutputSize: Int = .max) throws -> Data {
        var stream = z_stream()
        guard steadfast_inflate_init_gzip(&stream) == Z_OK else {
            throw corrupt("zlib could not start decompressing")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        var input = [UInt8](data)
        var tooLarge = false
        let status: Int32 = input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            var result: Int32 = Z_OK
            while true {
                result = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = uInt(chunkBuffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunkSize - Int(stream.avail_out)
                if produced > maxOutputSize - output.count {
                    tooLarge = true
                    break
                }
                output.append(contentsOf: chunk[0..<produced])
                if result != Z_OK { break }
                // No progress possible: input exhausted before the end of the stream.
                if stream.avail_in == 0 && produced < chunkSize {
                    result = Z_BUF_ERROR
                    break
                }
            }
            return result
        }
        guard !tooLarge else {
            throw InstanceStoreError(
                .corruptState,
                "The stored instance state decompresses to more than the store's limit of \(maxOutputSize) "
                    + "bytes (maxStateSize); it was not loaded. If the row is genuine, open the store with a "
                    + "higher maxStateSize; otherwise it was damaged outside Steadfast: restore it from a backup "
                    + "or delete the instance."
            )
        }
        guard status == Z_STREAM_END else {
            throw corrupt("the gzip stream is truncated or corrupt (zlib status \(status))")
        }
        guard stream.avail_in == 0 else {
            throw corrupt("there are \(stream.avail_in) stray bytes after the gzip stream")
        }
        return output
    }

    static func corrupt(_ detail: String) -> InstanceStoreError {
        InstanceStoreError(
            .corruptState,
            "The stored instance state cannot be decompressed: \(detail). The row was damaged "
                + "outside Steadfast; restore it from a backup or delete the instance."
        )
    }
}
