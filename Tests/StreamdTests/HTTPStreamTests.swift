import NIOCore
import NIOEmbedded
import PortModel
import XCTest

@testable import StreamWire
@testable import streamd

/// The test stream on HTTP answers (issue 7): ICY's paced MP3 frames, and MMSH's ASF packets in
/// `$D` chunks.
final class HTTPStreamTests: StreamTestCase {
    // MARK: ICY

    func testICYFramesArePacedAfterTheBurst() throws {
        let rig = try rig(.icy)
        _ = try send(rig.control, "GET /test.mp3 HTTP/1.0\r\n\r\n")
        rig.loop.advanceTime(by: .milliseconds(20))
        XCTAssertEqual(outbound(rig.control).count, 417 * ICYResponder.burstFrames)
        // Ten seconds later: one frame per 1152/44100 s, about 383, never a burst.
        var frames = 0
        for _ in 0..<500 {
            rig.loop.advanceTime(by: .milliseconds(20))
            frames += outbound(rig.control).count / 417
        }
        XCTAssertEqual(frames, Int(10.02 / (1152.0 / 44100.0)), accuracy: 1)
    }

    func testICYBeyondSessionsMaxIs503() throws {
        let rig = try rig(.icy, sessionsMax: 1)
        _ = rig.media.add(owner: ObjectIdentifier(EmbeddedChannel()), sink: .icy(EmbeddedChannel()))
        XCTAssertTrue(try send(rig.control, "GET /test.mp3 HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.0 503 Service Unavailable\r\n"))
    }

    // MARK: MMSH

    func testASFHeaderLayout() {
        let header = ASF.header()
        func u32(_ at: Int) -> Int { Int(header[at]) | Int(header[at + 1]) << 8 | Int(header[at + 2]) << 16 | Int(header[at + 3]) << 24 }
        // GUIDs as they appear on the wire (from a file ffmpeg's ASF muxer wrote), not from ASF.guid.
        let headerGUID: [UInt8] = [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C]
        let fileGUID: [UInt8] = [0xA1, 0xDC, 0xAB, 0x8C, 0x47, 0xA9, 0xCF, 0x11, 0x8E, 0xE4, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65]
        let streamGUID: [UInt8] = [0x91, 0x07, 0xDC, 0xB7, 0xB7, 0xA9, 0xCF, 0x11, 0x8E, 0xE6, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65]
        let audioGUID: [UInt8] = [0x40, 0x9E, 0x69, 0xF8, 0x4D, 0x5B, 0xCF, 0x11, 0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B]
        let dataGUID: [UInt8] = [0x36, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C]
        XCTAssertEqual(Array(header[0..<16]), headerGUID)
        XCTAssertEqual(u32(16), header.count - 50, "the header object's size: everything before the data object")
        XCTAssertEqual(u32(24), 3, "three child objects")
        XCTAssertEqual(Array(header[28..<30]), [0x01, 0x02])
        XCTAssertEqual(Array(header[30..<46]), fileGUID)
        XCTAssertEqual(u32(46), 104)
        XCTAssertEqual(u32(30 + 88) & 1, 1, "the broadcast flag")
        XCTAssertEqual([u32(30 + 92), u32(30 + 96)], [200, 200], "fixed 200-byte packets")
        XCTAssertEqual(Array(header[134..<150]), streamGUID)
        XCTAssertEqual(Array(header[158..<174]), audioGUID)
        // WAVEFORMATEX after the 78-byte head of the stream properties: µ-law, mono, 8 kHz, 8 bits.
        XCTAssertEqual(
            Array(header[(134 + 78)..<(134 + 78 + 18)]),
            [0x07, 0x00, 0x01, 0x00, 0x40, 0x1F, 0, 0, 0x40, 0x1F, 0, 0, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00])
        XCTAssertEqual(Array(header[(header.count - 50)..<(header.count - 34)]), dataGUID)
        XCTAssertEqual(Array(header.suffix(2)), [0x01, 0x01])
    }

    func testASFDataPacketLayout() {
        let samples = [UInt8](repeating: 0xAB, count: 160)
        let packet = ASF.dataPacket(objectNumber: 258, milliseconds: 1000, samples: samples)
        XCTAssertEqual(packet.count, 200)
        XCTAssertEqual(
            Array(packet[0..<27]),
            [
                0x82, 0x00, 0x00,  // error correction
                0x08, 0x5D, 13,  // a byte of padding length, then the property flags; 13 bytes of padding
                0xE8, 0x03, 0x00, 0x00, 0x14, 0x00,  // send time 1000 ms, duration 20 ms
                0x81, 0x02, 0x00, 0x00, 0x00, 0x00,  // stream 1 (key frame), object 258 & 0xFF, offset 0
                0x08, 0xA0, 0x00, 0x00, 0x00, 0xE8, 0x03, 0x00, 0x00,  // replicated: 160 bytes, at 1000 ms
            ])
        XCTAssertEqual(Array(packet[27..<187]), samples)
        XCTAssertEqual(Array(packet[187...]), [UInt8](repeating: 0, count: 13))
        XCTAssertEqual(MMSResponder.chunk("D", sequence: 7, body: [1, 2]), [0x24, 0x44, 10, 0, 7, 0, 0, 0, 0, 0, 10, 0, 1, 2])
    }

    func testMMSHPlayStreamsDataChunks() throws {
        let rig = try rig(.mms)
        let play =
            "GET /test HTTP/1.0\r\nUser-Agent: NSPlayer/4.1.0.3856\r\nPragma: no-cache,rate=1.000000,request-context=2\r\nPragma: xPlayStrm=1\r\n\r\n"
        try rig.control.writeInbound(rig.control.allocator.buffer(bytes: Array(play.utf8)))
        let answer = outbound(rig.control)
        XCTAssertEqual(answer, MMSResponder.playResponse().bytes)
        XCTAssertTrue(String(decoding: answer.prefix(200), as: UTF8.self).contains("Content-Type: application/x-mms-framed"))
        for _ in 0..<2 { rig.loop.advanceTime(by: .milliseconds(20)) }
        let tone = MediaPump.toneFrame
        XCTAssertEqual(
            outbound(rig.control),
            (0..<2).flatMap { index in
                MMSResponder.chunk(
                    "D", sequence: UInt32(index), body: ASF.dataPacket(objectNumber: index, milliseconds: UInt32(index * 20), samples: tone)
                )
            })
        try rig.control.close().wait()
        XCTAssertEqual(rig.media.activeSessions, 0)
    }
}
