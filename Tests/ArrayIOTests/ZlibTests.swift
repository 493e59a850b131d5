// zlib streams deflated in pieces: they inflate to the input (zlib checks the
// joined Adler-32), do not depend on thread timing, and one piece is plain deflate.

import Testing
@testable import ArrayIO

@Suite struct ZlibPiecesTests {
    /// Runs of bytes and noise, like a filtered figure: 300 KB.
    static let input: [UInt8] = {
        var state: UInt32 = 7
        return (0..<300_000).map { i in
            state = state &* 1664525 &+ 1013904223
            return (i / 1000) % 3 == 0 ? UInt8(state >> 24) : UInt8((i / 5000) & 0xFF)
        }
    }()

    @Test(arguments: [1, 2, 3, 7])
    func piecesInflateToTheInput(pieces: Int) throws {
        for strategy in [Zlib.Strategy.default, .runLength] {
            for level: Int32 in [1, 6, 9] {
                let stream = try Self.input.withUnsafeBytes { try Zlib.deflateZlib($0, level: level, strategy: strategy, pieces: pieces) }
                #expect(try Zlib.inflate(stream, format: .zlib) == Self.input)
                // The header's check bits make it a multiple of 31.
                #expect((Int(stream[0]) << 8 | Int(stream[1])) % 31 == 0 && stream[0] == 0x78)
            }
        }
    }

    @Test func sameInputGivesTheSameBytes() throws {
        let streams = try (0..<5).map { _ in
            try Self.input.withUnsafeBytes { try Zlib.deflateZlib($0, level: 1, strategy: .runLength, pieces: 2) }
        }
        #expect(streams.allSatisfy { $0 == streams[0] })
    }

    @Test func onePieceIsZlibsOwnStream() throws {
        let ours = try Self.input.withUnsafeBytes { try Zlib.deflateZlib($0, level: 6, pieces: 1) }
        #expect(ours == (try Zlib.deflate(Self.input, format: .zlib, level: 6)))
    }

    @Test(arguments: [1, 2])
    func prefixComesFirstAndSpareIsReserved(pieces: Int) throws {
        let prefix: [UInt8] = [1, 2, 3]
        let plain = try Self.input.withUnsafeBytes { try Zlib.deflateZlib($0, level: 1, pieces: pieces) }
        let withPrefix = try Self.input.withUnsafeBytes {
            try Zlib.deflateZlib($0, level: 1, pieces: pieces, prefix: prefix, spare: 100)
        }
        #expect(withPrefix == prefix + plain && withPrefix.capacity >= withPrefix.count + 100)
    }

    @Test func emptyAndTinyInputs() throws {
        for input: [UInt8] in [[], [42], Array(repeating: 0, count: 5000)] {
            let stream = try input.withUnsafeBytes { try Zlib.deflateZlib($0, level: 1, strategy: .runLength, pieces: 2) }
            #expect(try Zlib.inflate(stream, format: .zlib) == input)
        }
    }
}
