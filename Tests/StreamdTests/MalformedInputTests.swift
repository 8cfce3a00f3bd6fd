import NIOCore
import NIOEmbedded
import XCTest

@testable import KnockAuth
@testable import PortModel
@testable import PortPlanning
@testable import StreamWire
@testable import streamd

/// A corpus of malformed and hostile requests: none may crash streamd or make it buffer without bound.
final class MalformedInputTests: XCTestCase {
    static let corpus: [[UInt8]] = [
        [], [0], [0x0D, 0x0A, 0x0D, 0x0A], Array("\r\n\r\n".utf8), Array("GET".utf8), Array("GET / HTTP/1.1\r\n".utf8),
        Array("GET / HTTP/1.1\r\nHost\r\n\r\n".utf8), Array("GET / HTTP/1.1\r\n: empty\r\n\r\n".utf8),
        Array("OPTIONS * RTSP/1.0\r\nContent-Length: -5\r\n\r\n".utf8),
        Array("OPTIONS * RTSP/1.0\r\nContent-Length: 99999999999\r\n\r\n".utf8),
        Array("DESCRIBE rtsp://\u{0}/ RTSP/1.0\r\n\r\n".utf8), Array("POST / HTTP/1.0\r\nx-sessioncookie: a\r\n\r\n!!!!notbase64****".utf8),
        Array((String(repeating: "A", count: 20_000) + "\r\n\r\n").utf8),
        Array(("GET / HTTP/1.1\r\n" + String(repeating: "X: y\r\n", count: 200) + "\r\n").utf8),
        [0xFF, 0xFE, 0xFD] + [UInt8](repeating: 0x80, count: 5000),
        [0x03] + [UInt8](repeating: 0, count: 1536) + [UInt8](repeating: 0xC3, count: 3000),
        [0x06] + [UInt8](repeating: 0x41, count: 9000), Array("SOURCE\r\n\r\n".utf8), Array("ICY 200 OK\r\n\r\n".utf8),
        [1, 0, 0, 0, 0xCE, 0xFA, 0x0B, 0xB0, 0xFF, 0xFF, 0xFF, 0xFF] + Array("MMS ".utf8),
        // libFuzzer's crash-b89c1dfe (fuzz/corpus/regression-rtmp-shrinking-length).
        [
            3, 16, 0, 0, 0, 0, 35, 1, 0, 0, 0, 20, 0, 0, 0, 0, 2, 0, 55, 57, 189, 61, 0, 2, 0, 54, 54, 255, 255, 255, 255, 116, 0, 114, 116,
            47,
            0, 0, 0, 0, 0, 0, 0, 115, 112, 58, 0, 0, 0, 0, 0, 0, 0, 128, 47, 47, 63, 36, 0, 0, 47, 0, 0, 0, 0, 0, 0, 0, 0, 118, 101, 0, 0,
            9,
        ],
    ]

    func testNoServiceCrashesOrGrowsWithoutBound() throws {
        var generator = SeededRandom(seed: 42)
        var inputs = Self.corpus
        for _ in 0..<200 {
            let length = Int(generator.next() % 3000)
            inputs.append((0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        }
        for service in [Service.rtsp, .rtspHTTP, .http, .icy, .mms, .admin, .rtmp, .rtmpt, .pna, .other] {
            for input in inputs {
                let channel = EmbeddedChannel()
                try channel.pipeline.syncOperations.addHandler(
                    ConnectionHandler(
                        service: service, listener: "x", port: 1, counters: Counters(), tunnels: TunnelRegistry(), rtmpt: RTMPTRegistry(),
                        limits: ConnectionLimits(), media: MediaRegistry(loop: channel.embeddedEventLoop, maxSessions: 8)))
                try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 554)).wait()
                // Feed in odd-sized pieces, as TCP may deliver them.
                var offset = 0
                while offset < input.count, channel.isActive {
                    let size = 1 + Int(generator.next() % 700)
                    try channel.writeInbound(channel.allocator.buffer(bytes: Array(input[offset..<min(input.count, offset + size)])))
                    offset += size
                }
                var total = 0
                while let buffer = try channel.readOutbound(as: ByteBuffer.self) { total += buffer.readableBytes }
                XCTAssertLessThan(total, 64 * 1024, "\(service) answered \(total) bytes to \(input.count) bytes of junk")
                _ = try? channel.finish()
            }
        }
    }

    func testRequestHeadLimits() {
        XCTAssertEqual(RequestHead.parse(Array(String(repeating: "A", count: 9000).utf8)), .malformed("head longer than 8192 bytes"))
        XCTAssertEqual(RequestHead.parse(Array("GET / HTTP/1.1\r\nHost: x\r\n".utf8)), .needMore)
        let many = "GET / HTTP/1.1\r\n" + String(repeating: "X: y\r\n", count: 65) + "\r\n"
        XCTAssertEqual(RequestHead.parse(Array(many.utf8)), .malformed("more than 64 headers"))
        guard case .head(let head, let consumed) = RequestHead.parse(Array("OPTIONS * RTSP/1.0\nCSeq: 1\n\nrest".utf8)) else {
            return XCTFail()
        }
        XCTAssertEqual(head.header("cseq"), "1", "header names are matched without case; bare newlines are accepted")
        XCTAssertEqual(consumed, 28)
    }
}
