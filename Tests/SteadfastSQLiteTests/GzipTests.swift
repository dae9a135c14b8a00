import Foundation
import SteadfastCore
import SteadfastStore
import Testing

@Suite("gzip state encoding")
struct GzipTests {
    @Test(arguments: [0, 1, 65_535, 65_536, 65_537, 3_000_000])
    func roundTrip(size: Int) throws {
        var generator = SystemRandomNumberGenerator()
        // Half random (incompressible), half repetitive.
        let data =
            Data((0..<size / 2).map { _ in UInt8.random(in: 0...255, using: &generator) })
            + Data(repeating: 7, count: size - size / 2)
        let compressed = try Gzip.compress(data)
        #expect(compressed.prefix(2) == Data([0x1F, 0x8B]), "gzip magic")
        #expect(try Gzip.decompress(compressed) == data)
    }

    @Test func highlyCompressibleStateExpandsPastManyChunks() throws {
        let data = Data(repeating: 0, count: 20_000_000)
        let compressed = try Gzip.compress(data)
        #expect(compressed.count < 100_000)
        #expect(try Gzip.decompress(compressed) == data)
    }

    /// A gzip bomb stops at the output cap, with a corruptState naming the limit, instead of
    /// exhausting memory; a state exactly at the cap decodes.
    @Test func decompressionIsCapped() throws {
        let bomb = try Gzip.compress(Data(count: 64 * 1024 * 1024))
        #expect(bomb.count < 1_000_000)
        do {
            _ = try Gzip.decompress(bomb, maxOutputSize: 1_000_000)
            Issue.record("the bomb decompressed past its cap")
        } catch let error as InstanceStoreError {
            #expect(error.code == .corruptState)
            #expect(error.message.contains("1000000 bytes"), "\(error.message)")
        }
        let exact = Data(repeating: 3, count: 200_000)
        #expect(try Gzip.decompress(try Gzip.compress(exact), maxOutputSize: 200_000) == exact)
        #expect(throws: InstanceStoreError.self) {
            try Gzip.decompress(try Gzip.compress(exact), maxOutputSize: 199_999)
        }
        #expect(throws: InstanceStoreError.self) {
            try StateCodec.decode(exact, encoding: "none", maxSize: 199_999)
        }
    }

    @Test func codecHonoursThresholdAndRecordsEncoding() throws {
        let codec = StateCodec(options: StateEncodingOptions(encoding: .gzip, compressionThreshold: 100))
        let small = Data(repeating: 1, count: 99)
        let large = Data(repeating: 1, count: 100)
        #expect(try codec.encode(small).encoding == .none)
        #expect(try codec.encode(small).bytes == small)
        let (bytes, encoding) = try codec.encode(large)
        #expect(encoding == .gzip)
        #expect(try StateCodec.decode(bytes, encoding: "gzip") == (large, .gzip))
        #expect(try StateCodec(options: .none).encode(large).encoding == .none)
    }

    @Test func everyTruncationIsATypedError() throws {
        let compressed = try Gzip.compress(Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }))
        for length in stride(from: 0, to: compressed.count, by: 97) {
            let error = #expect(throws: InstanceStoreError.self) { try Gzip.decompress(compressed.prefix(length)) }
            #expect(error?.code == .corruptState)
        }
        let trailing = #expect(throws: InstanceStoreError.self) { try Gzip.decompress(compressed + Data([1])) }
        #expect(trailing?.code == .corruptState)
    }
}

/// Tuples are not Equatable; compare a decode result field by field.
private func == (lhs: (Data, StateEncoding), rhs: (Data, StateEncoding)) -> Bool {
    lhs.0 == rhs.0 && lhs.1 == rhs.1
}
