import NIOCore
import NIOEmbedded
import PortModel
import XCTest

@testable import StreamWire
@testable import streamd

/// The framer alone (issue 12): what it hands the protocol handler for each kind of input, per
/// service. The whole connection, deadline included, is tested through `ConnectionHandler`.
final class StreamFramerTests: XCTestCase {
    /// Keeps what the framer hands on.
    final class Collector: ChannelInboundHandler {
        typealias InboundIn = Framed
        var received: [Framed] = []
        /// What a protocol handler would do on receiving it, before the framer reads on.
        var reaction: (Framed) -> Void = { _ in }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received.append(unwrapInboundIn(data))
            reaction(unwrapInboundIn(data))
        }
    }

    func framer(_ service: Service) throws -> (EmbeddedChannel, StreamFramer, Collector) {
        let channel = EmbeddedChannel()
        let framer = StreamFramer(service: service, headTimeout: 10)
        let collector = Collector()
        try channel.pipeline.syncOperations.addHandlers([ByteToMessageHandler(framer), collector])
        return (channel, framer, collector)
    }

    func feed(_ channel: EmbeddedChannel, _ bytes: [UInt8]) throws { try channel.writeInbound(channel.allocator.buffer(bytes: bytes)) }
    func feed(_ channel: EmbeddedChannel, _ text: String) throws { try feed(channel, Array(text.utf8)) }

    func testHeadsWithBodiesAreHandedOnWholeWhateverTheSplit() throws {
        let (channel, _, collector) = try framer(.http)
        let text = "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\n\r\n"
        for byte in Array(text.utf8) { try feed(channel, [byte]) }
        XCTAssertEqual(collector.received.count, 2)
        guard case .request(let post, let body) = collector.received[0], case .request(let get, let none) = collector.received[1] else {
            return XCTFail("\(collector.received)")
        }
        XCTAssertEqual([post.target, get.target], ["/a", "/b"])
        XCTAssertEqual(body, Array("hello".utf8))
        XCTAssertEqual(none, [])
    }

    func testInterleavedFramesAreSkippedWhereClientsSendThem() throws {
        let frame = InterleavedFrame.encode(channel: 1, packet: [0x80, 0xC9, 0, 1, 0, 0, 0, 1])
        let (rtsp, _, skipped) = try framer(.rtsp)
        try feed(rtsp, Array(frame.prefix(3)))
        try feed(rtsp, Array(frame.dropFirst(3)) + Array("OPTIONS * RTSP/1.0\r\n\r\n".utf8))
        guard skipped.received.count == 1, case .request(let head, _) = skipped.received[0] else { return XCTFail("\(skipped.received)") }
        XCTAssertEqual(head.method, "OPTIONS")
        // The ICY port takes no `$` frames: a `$` there is garbage.
        let (icy, icyFramer, garbage) = try framer(.icy)
        try feed(icy, frame + Array("GET / HTTP/1.0\r\n\r\n".utf8))
        guard garbage.received.count == 1, case .malformed = garbage.received[0] else { return XCTFail("\(garbage.received)") }
        XCTAssertEqual(icyFramer.mode, .ignore, "nothing more is read after garbage")
    }

    func testOverlongHeadsAndBodiesAndBadLengthsEndTheReading() throws {
        let (long, _, tooLong) = try framer(.http)
        try feed(long, "GET / HTTP/1.0\r\n" + String(repeating: "X", count: 9000))
        guard case .malformed(let start)? = tooLong.received.first else { return XCTFail("\(tooLong.received)") }
        XCTAssertEqual(start.count, 200, "the first 200 bytes, to choose the answer's protocol")
        let (body, bodyFramer, refused) = try framer(.rtsp)
        try feed(body, "ANNOUNCE * RTSP/1.0\r\nCSeq: 4\r\nContent-Length: 65537\r\n\r\n")
        guard case .refused(let head)? = refused.received.first else { return XCTFail("\(refused.received)") }
        XCTAssertEqual(head.header("CSeq"), "4")
        XCTAssertEqual(bodyFramer.mode, .ignore)
        try feed(body, "OPTIONS * RTSP/1.0\r\n\r\n")
        XCTAssertEqual(refused.received.count, 1, "dropped")
        let (bad, _, badLength) = try framer(.http)
        try feed(bad, "GET / HTTP/1.0\r\nContent-Length: -1\r\n\r\n")
        guard case .refused? = badLength.received.first else { return XCTFail("\(badLength.received)") }
    }

    func testATunnelsPostHasNoBodyAndWhatFollowsIsRaw() throws {
        let (channel, framer, collector) = try framer(.rtspHTTP)
        // The tunnel handler turns the rest into raw bytes before the framer reads on.
        collector.reaction = { if case .request = $0 { framer.mode = .bytes } }
        try feed(channel, "POST /t HTTP/1.0\r\nx-sessioncookie: c\r\nContent-Length: 32767\r\n\r\nT1BU")
        guard collector.received.count == 2, case .request(let head, let body) = collector.received[0],
            case .bytes(let rest) = collector.received[1]
        else {
            return XCTFail("\(collector.received)")
        }
        XCTAssertEqual(head.method, "POST")
        XCTAssertEqual(body, [], "the tunnel's Content-Length is not a body")
        XCTAssertEqual(rest, Array("T1BU".utf8), "what came with the head")
        try feed(channel, "SU9O")
        guard case .bytes(let later)? = collector.received.last else { return XCTFail("\(collector.received)") }
        XCTAssertEqual(later, Array("SU9O".utf8))
    }

    func testTheRTMPPortSniffsItsFirstByte() throws {
        let (rtmp, rtmpFramer, binary) = try framer(.rtmp)
        try feed(rtmp, [0x03, 1, 2])
        XCTAssertEqual(rtmpFramer.mode, .bytes)
        guard case .bytes(let bytes)? = binary.received.first else { return XCTFail("\(binary.received)") }
        XCTAssertEqual(bytes, [0x03, 1, 2])
        let (http, httpFramer, text) = try framer(.rtmps)
        try feed(http, "GET / HTTP/1.0\r\n\r\n")
        XCTAssertEqual(httpFramer.mode, .heads)
        guard case .request? = text.received.first else { return XCTFail("\(text.received)") }
    }

    func testMMSTIsToldFromAHeadOnTheMMSPortOnly() throws {
        let greeting: [UInt8] = [1, 0, 0, 0, 0xCE, 0xFA, 0x0B, 0xB0, 40, 0, 0, 0] + Array("MMS ".utf8) + [UInt8](repeating: 0, count: 20)
        let (mms, _, collector) = try framer(.mms)
        try feed(mms, greeting)
        guard case .mmst? = collector.received.first else { return XCTFail("\(collector.received)") }
        let (http, _, other) = try framer(.http)
        try feed(http, greeting)
        XCTAssertTrue(other.received.isEmpty, "elsewhere, no head yet: more bytes are awaited")
    }

    func testServicesStreamdDoesNotSpeakAreHeldSilently() throws {
        let (channel, framer, collector) = try framer(.pna)
        XCTAssertEqual(framer.mode, .ignore)
        try feed(channel, "GET / HTTP/1.0\r\n\r\n")
        XCTAssertTrue(collector.received.isEmpty)
    }
}
