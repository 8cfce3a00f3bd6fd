import NIOCore
import NIOEmbedded
import XCTest

@testable import KnockAuth
@testable import PortModel
@testable import PortPlanning
@testable import StreamWire
@testable import streamd

final class RTMPTests: XCTestCase {
    let c1: [UInt8] = (0..<1536).map { UInt8($0 % 251) }

    /// A client's `connect` in one format-0 chunk on stream 3.
    func connect(transaction: Double = 1) -> [UInt8] {
        let payload =
            AMF0.string("connect").encoded + AMF0.number(transaction).encoded
            + AMF0.object([("app", .string("live")), ("tcUrl", .string("rtmp://h/live"))]).encoded
        return RTMPSession.chunk(csid: 3, type: 20, stream: 0, payload: payload)
    }

    func testHandshakeAnswersS0S1S2() {
        var session = RTMPSession(serverRandom: [UInt8](repeating: 0xAB, count: 1528))
        XCTAssertEqual(session.receive([0x03] + c1.prefix(100)), [], "waits for all of C1")
        let reply = session.receive(Array(c1.dropFirst(100)))
        XCTAssertEqual(reply.count, 1 + 1536 + 1536)
        XCTAssertEqual(reply[0], 0x03, "S0: version 3")
        XCTAssertEqual(Array(reply[1..<9]), [0, 0, 0, 0, 0, 0, 0, 0], "S1: time and zero")
        XCTAssertEqual(Array(reply[1537...]), c1, "S2 echoes C1")
        XCTAssertEqual(session.state, .awaitingC2)
    }

    func testConnectIsAnsweredWithResult() {
        var session = RTMPSession()
        _ = session.receive([0x03] + c1)
        XCTAssertEqual(session.receive(c1), [], "C2 completes the handshake")
        let reply = session.receive(connect(transaction: 1))
        XCTAssertEqual(reply, RTMPSession.connectReply(transaction: 1))
        XCTAssertEqual(session.commands, ["connect"])
    }

    /// Golden bytes for the reply to connect: WindowAckSize, SetPeerBandwidth, _result.
    func testConnectReplyGoldenBytes() {
        let bytes = RTMPSession.connectReply(transaction: 1)
        XCTAssertEqual(Array(bytes[0..<16]), [0x02, 0, 0, 0, 0, 0, 4, 0x05, 0, 0, 0, 0, 0x00, 0x26, 0x25, 0xA0])
        XCTAssertEqual(Array(bytes[16..<33]), [0x02, 0, 0, 0, 0, 0, 5, 0x06, 0, 0, 0, 0, 0x00, 0x26, 0x25, 0xA0, 0x02])
        let result = Array(bytes[33...])
        XCTAssertEqual(result[0], 0x03, "chunk stream 3, format 0")
        XCTAssertEqual(result[7], 20, "AMF0 command")
        // "_result" as an AMF0 string, then the transaction id 1.0 as an AMF0 number.
        XCTAssertEqual(Array(result[12..<22]), [0x02, 0x00, 0x07] + Array("_result".utf8))
        XCTAssertEqual(Array(result[22..<31]), [0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0])
        let text = String(decoding: result, as: UTF8.self)
        XCTAssertTrue(text.contains("NetConnection.Connect.Success"))
    }

    func testLargeConnectSpansChunksAndSetChunkSizeIsHonoured() {
        var session = RTMPSession()
        _ = session.receive([0x03] + c1)
        _ = session.receive(c1)
        // Set Chunk Size 4096, then a connect larger than 128 bytes in one chunk.
        let setChunk = RTMPSession.chunk(csid: 2, type: 1, stream: 0, payload: [0, 0, 0x10, 0])
        let payload =
            AMF0.string("connect").encoded + AMF0.number(1).encoded
            + AMF0.object([("app", .string(String(repeating: "a", count: 300)))]).encoded
        var big: [UInt8] = [
            0x03, 0, 0, 0, UInt8(payload.count >> 16), UInt8((payload.count >> 8) & 0xFF), UInt8(payload.count & 0xFF), 20, 0, 0, 0, 0,
        ]
        big += payload
        XCTAssertEqual(session.receive(setChunk + big), RTMPSession.connectReply(transaction: 1))
        // The default 128-byte chunking also reassembles.
        var other = RTMPSession()
        _ = other.receive([0x03] + c1)
        _ = other.receive(c1)
        XCTAssertEqual(
            other.receive(RTMPSession.chunk(csid: 3, type: 20, stream: 0, payload: payload)), RTMPSession.connectReply(transaction: 1))
    }

    func testBadVersionAndHugeMessagesFail() {
        var session = RTMPSession()
        _ = session.receive([0x47] + c1)
        XCTAssertEqual(session.state, .failed("C0 is 71, not RTMP version 3"))
        var huge = RTMPSession()
        _ = huge.receive([0x03] + c1)
        _ = huge.receive(c1)
        _ = huge.receive([0x03, 0, 0, 0, 0x7F, 0xFF, 0xFF, 20, 0, 0, 0, 0])
        if case .failed = huge.state {} else { XCTFail("a 8 MB message must be refused: \(huge.state)") }
    }

    /// libFuzzer's first finding: a new message header declaring a shorter length than the part of
    /// the previous message already buffered made the chunk reader take a negative count.
    func testANewHeaderShorterThanThePartialMessageDoesNotCrash() {
        var session = RTMPSession()
        _ = session.receive([0x03] + c1)
        _ = session.receive(c1)
        // 200 bytes announced on stream 3, 128 delivered, then a new format-0 header on stream 3 for 10 bytes.
        let first: [UInt8] = [0x03, 0, 0, 0, 0, 0, 200, 20, 0, 0, 0, 0] + [UInt8](repeating: 0x05, count: 128)
        let second: [UInt8] = [0x03, 0, 0, 0, 0, 0, 10, 20, 0, 0, 0, 0] + [UInt8](repeating: 0x05, count: 10)
        XCTAssertEqual(session.receive(first + second), [], "nulls are no command; nothing to answer")
        XCTAssertEqual(session.state, .chunks)
    }

    func testAnHTTPClientOnTheRTMPPortGetsAnAnswer() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ConnectionHandler(
                service: .rtmp, listener: "1935/tcp", port: 1935, counters: Counters(), tunnels: TunnelRegistry(), rtmpt: RTMPTRegistry(),
                limits: ConnectionLimits(), media: MediaRegistry(loop: channel.embeddedEventLoop, maxSessions: 8)))
        try channel.writeInbound(channel.allocator.buffer(bytes: Array("GET / HTTP/1.0\r\n\r\n".utf8)))
        let reply = try XCTUnwrap(try channel.readOutbound(as: ByteBuffer.self))
        XCTAssertTrue(String(decoding: reply.readableBytesView, as: UTF8.self).hasPrefix("HTTP/1.0 200 OK"))
    }

    func testRTMPTTunnel() {
        let registry = RTMPTRegistry()
        let id = registry.open()!
        XCTAssertEqual(registry.exchange(id, [0x03] + c1)?.count, 3073)
        XCTAssertEqual(registry.exchange(id, c1), [])
        XCTAssertEqual(registry.exchange(id, connect()), RTMPSession.connectReply(transaction: 1))
        registry.close(id)
        XCTAssertNil(registry.exchange(id, []))
    }
}
