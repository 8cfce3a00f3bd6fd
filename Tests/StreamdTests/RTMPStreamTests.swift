import NIOCore
import NIOEmbedded
import PortModel
import XCTest

@testable import StreamWire
@testable import streamd

/// The test stream over RTMP (issue 7): the play messages, the audio, publish, --sessions-max.
final class RTMPStreamTests: StreamTestCase {
    // MARK: RTMP

    /// An AMF0 number, built here from the spec (0x00 then the IEEE 754 double, big-endian).
    func number(_ value: Double) -> [UInt8] { [0x00] + (0..<8).map { UInt8((value.bitPattern >> (56 - 8 * UInt64($0))) & 0xFF) } }
    func string(_ text: String) -> [UInt8] { [0x02, 0x00, UInt8(text.utf8.count)] + Array(text.utf8) }
    func key(_ text: String) -> [UInt8] { [0x00, UInt8(text.utf8.count)] + Array(text.utf8) }

    func testRTMPPlayMessagesGolden() {
        // Set Chunk Size 4096, then User Control StreamBegin(1), both on chunk stream 2, message stream 0.
        let setChunkSize: [UInt8] = [0x02, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 0, 0x00, 0x00, 0x10, 0x00]
        let streamBegin: [UInt8] = [0x02, 0, 0, 0, 0, 0, 6, 0x04, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01]
        let status: [UInt8] =
            string("onStatus") + number(0) + [0x05] + [0x03]
            + key("level") + string("status") + key("code") + string("NetStream.Play.Start")
            + key("description") + string("Started playing the streamd test stream.") + [0x00, 0x00, 0x09]
        XCTAssertLessThanOrEqual(status.count, 4096)
        let onStatus: [UInt8] = [0x03, 0, 0, 0, 0, UInt8(status.count >> 8), UInt8(status.count & 0xFF), 0x14, 0x01, 0, 0, 0] + status
        XCTAssertEqual(RTMPSession.playReply(stream: 1), setChunkSize + streamBegin + onStatus)

        let created: [UInt8] = string("_result") + number(4) + [0x05] + number(1)
        XCTAssertEqual(
            RTMPSession.command([.string("_result"), .number(4), .null, .number(1)], stream: 0),
            [0x03, 0, 0, 0, 0, 0, UInt8(created.count), 0x14, 0, 0, 0, 0] + created)
    }

    func testFLVAudioMessageGolden() {
        let samples = [UInt8](repeating: 0xFF, count: 160)
        // Chunk stream 4, timestamp 40 ms, length 161, type 8 (audio), message stream 1 (little-endian),
        // then the FLV tag byte 0x82 (G.711 µ-law) and 160 samples: one chunk under the 4096-byte chunk size.
        XCTAssertEqual(
            RTMPSession.audioMessage(timestamp: 40, samples: samples, stream: 1),
            [0x04, 0x00, 0x00, 0x28, 0x00, 0x00, 0xA1, 0x08, 0x01, 0x00, 0x00, 0x00, 0x82] + samples)
        // Past 0xFFFFFF ms (4.6 hours) the timestamp moves to the extended field.
        let late = RTMPSession.audioMessage(timestamp: 0x0100_0000, samples: samples, stream: 1)
        XCTAssertEqual(
            Array(late[0..<16]), [0x04, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xA1, 0x08, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00])
    }

    func rtmpCommand(_ values: [AMF0], stream: UInt32 = 0) -> [UInt8] {
        RTMPSession.chunk(csid: 3, type: 20, stream: stream, payload: values.flatMap(\.encoded))
    }

    func handshake(_ channel: EmbeddedChannel) throws {
        try channel.writeInbound(channel.allocator.buffer(bytes: [0x03] + [UInt8](repeating: 1, count: 1536)))
        XCTAssertEqual(outbound(channel).count, 1 + 1536 + 1536)
        try channel.writeInbound(channel.allocator.buffer(bytes: [UInt8](repeating: 2, count: 1536)))
    }

    func testRTMPPlayStreamsAudioAfterPlayStart() throws {
        let rig = try rig(.rtmp)
        try handshake(rig.control)
        try rig.control.writeInbound(
            rig.control.allocator.buffer(bytes: rtmpCommand([.string("connect"), .number(1), .object([("app", .string("live"))])])))
        XCTAssertEqual(outbound(rig.control), RTMPSession.connectReply(transaction: 1))
        try rig.control.writeInbound(rig.control.allocator.buffer(bytes: rtmpCommand([.string("createStream"), .number(2), .null])))
        XCTAssertEqual(outbound(rig.control), RTMPSession.command([.string("_result"), .number(2), .null, .number(1)], stream: 0))
        rig.loop.advanceTime(by: .milliseconds(60))
        XCTAssertEqual(outbound(rig.control), [], "no audio before play")
        try rig.control.writeInbound(
            rig.control.allocator.buffer(bytes: rtmpCommand([.string("play"), .number(3), .null, .string("test")], stream: 1)))
        XCTAssertEqual(outbound(rig.control), RTMPSession.playReply(stream: 1))
        for _ in 0..<3 { rig.loop.advanceTime(by: .milliseconds(20)) }
        let audio = outbound(rig.control)
        let tone = MediaPump.toneFrame
        XCTAssertEqual(audio, [0, 20, 40].flatMap { RTMPSession.audioMessage(timestamp: UInt32($0), samples: tone, stream: 1) })
        // Idle readers are not idle players: the idle timeout leaves a playing connection alone.
        rig.control.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        XCTAssertTrue(rig.control.isActive)
        try rig.control.close().wait()
        XCTAssertEqual(rig.media.activeSessions, 0)
    }

    func testRTMPPublishIsAcceptedAndItsMediaDiscarded() throws {
        var session = RTMPSession(serverRandom: [UInt8](repeating: 0, count: 1528))
        _ = session.receive([0x03] + [UInt8](repeating: 1, count: 1536) + [UInt8](repeating: 2, count: 1536))
        _ = session.receive(rtmpCommand([.string("connect"), .number(1), .object([("app", .string("live"))])]))
        XCTAssertEqual(
            session.receive(rtmpCommand([.string("releaseStream"), .number(2), .null, .string("x")])),
            RTMPSession.command([.string("_result"), .number(2), .null], stream: 0))
        _ = session.receive(rtmpCommand([.string("createStream"), .number(4), .null]))
        let started = session.receive(rtmpCommand([.string("publish"), .number(5), .null, .string("x"), .string("live")], stream: 1))
        XCTAssertEqual(
            started, RTMPSession.onStatus("status", "NetStream.Publish.Start", "streamd accepts the stream and discards it", stream: 1))
        XCTAssertTrue(session.publishing)
        // A 300 KB video frame (larger than any command streamd keeps) in 128-byte chunks: counted, not held.
        let frame = [UInt8](repeating: 0x17, count: 300_000)
        XCTAssertEqual(session.receive(RTMPSession.chunk(csid: 6, type: 9, stream: 1, payload: frame)), [])
        XCTAssertEqual(session.discardedBytes, frame.count)
        XCTAssertEqual(session.state, .chunks, "still a working session")
        XCTAssertEqual(
            session.receive(rtmpCommand([.string("FCUnpublish"), .number(6), .null, .string("x")])),
            RTMPSession.command([.string("_result"), .number(6), .null], stream: 0))
    }

    func testRTMPPlayBeyondSessionsMaxFails() throws {
        let rig = try rig(.rtmp, sessionsMax: 1)
        _ = rig.media.add(owner: ObjectIdentifier(EmbeddedChannel()), sink: .icy(EmbeddedChannel()))
        try handshake(rig.control)
        try rig.control.writeInbound(rig.control.allocator.buffer(bytes: rtmpCommand([.string("connect"), .number(1), .object([])])))
        _ = outbound(rig.control)
        try rig.control.writeInbound(
            rig.control.allocator.buffer(bytes: rtmpCommand([.string("play"), .number(3), .null, .string("test")], stream: 1)))
        XCTAssertEqual(
            outbound(rig.control), RTMPSession.onStatus("error", "NetStream.Play.Failed", "streamd: --sessions-max reached", stream: 1))
        XCTAssertEqual(rig.media.activeSessions, 1)
    }
}
