import XCTest

@testable import StreamWire

/// The wire logic streamd, its tunnel and the probe share (issue 12): `$` interleaved frames, the
/// end of a request or reply head, and the text helpers of the answers.
final class WireFramingTests: XCTestCase {
    func testAnInterleavedFrameIsParsedWholeOrNotAtAll() throws {
        let bytes: [UInt8] = [0x24, 0x01, 0x00, 0x03, 0xAA, 0xBB, 0xCC, 0x4F]
        let frame = try XCTUnwrap(InterleavedFrame.parse(bytes[...]))
        XCTAssertEqual(frame.channel, 1)
        XCTAssertEqual(Array(frame.payload), [0xAA, 0xBB, 0xCC])
        XCTAssertEqual(frame.consumed, 7, "the header and the packet; the byte after is not the frame's")
        for cut in 0..<7 {
            XCTAssertNil(InterleavedFrame.parse(bytes[0..<cut]), "\(cut) bytes are not a whole frame yet")
            XCTAssertEqual(InterleavedFrame.starts(bytes[0..<cut]), cut > 0)
            XCTAssertEqual(InterleavedFrame.size(bytes[0..<cut]), cut >= 4 ? 7 : nil, "the size is known from the header on")
        }
        XCTAssertNil(InterleavedFrame.parse(Array("OPTIONS * RTSP/1.0\r\n\r\n".utf8)[...]))
        XCTAssertFalse(InterleavedFrame.starts(Array("RTSP/1.0 200 OK".utf8)[...]))
    }

    func testFramesAreReadFromTheMiddleOfABuffer() throws {
        let first = InterleavedFrame.encode(channel: 0, packet: [1, 2])
        let second = InterleavedFrame.encode(channel: 1, packet: [UInt8](repeating: 7, count: 300))
        let bytes = first + second
        var offset = 0
        var seen: [(UInt8, Int)] = []
        while let frame = InterleavedFrame.parse(bytes[offset...]) {
            seen.append((frame.channel, frame.payload.count))
            XCTAssertEqual(frame.payload.startIndex, offset + 4, "the payload keeps the buffer's indices")
            offset += frame.consumed
        }
        XCTAssertEqual(seen.map(\.0), [0, 1])
        XCTAssertEqual(seen.map(\.1), [2, 300])
        XCTAssertEqual(offset, bytes.count)
    }

    func testTheWriterFramesAsRFC2326Says() {
        XCTAssertEqual(InterleavedFrame.encode(channel: 1, packet: [9, 8]), [0x24, 0x01, 0x00, 0x02, 9, 8])
        XCTAssertEqual(
            Array(InterleavedFrame.encode(channel: 2, packet: [UInt8](repeating: 0, count: 0x1234)).prefix(4)), [0x24, 0x02, 0x12, 0x34])
    }

    func testARequestHeadEndsAtABlankLineOfEitherNewline() {
        func end(_ text: String) -> HeadEnd? { HeadEnd.request(in: Array(text.utf8)[...]) }
        XCTAssertEqual(end("GET / HTTP/1.0\r\nA: b\r\n\r\nbody"), HeadEnd(headLength: 21, bodyStart: 24))
        XCTAssertEqual(end("GET / HTTP/1.0\nA: b\n\nbody"), HeadEnd(headLength: 19, bodyStart: 21), "nmap's bare newlines")
        XCTAssertEqual(end("GET / HTTP/1.0\nA: b\n\r\nbody"), HeadEnd(headLength: 19, bodyStart: 22))
        XCTAssertNil(end("GET / HTTP/1.0\r\nA: b\r\n"))
        XCTAssertNil(end(""))
        let offset = Array("xxGET / HTTP/1.0\n\n".utf8)
        XCTAssertEqual(HeadEnd.request(in: offset[2...]), HeadEnd(headLength: 14, bodyStart: 16), "counted from the slice's start")
    }

    func testAReplyHeadEndsOnlyAtCRLFCRLF() {
        func end(_ text: String) -> HeadEnd? { HeadEnd.reply(in: Array(text.utf8)[...]) }
        XCTAssertEqual(end("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\nv=0"), HeadEnd(headLength: 24, bodyStart: 28))
        XCTAssertNil(end("RTSP/1.0 200 OK\nCSeq: 1\n\n"), "a reply's head needs CRLF")
        XCTAssertNil(end("\r\n\r"))
        XCTAssertEqual(end("\r\n\r\n"), HeadEnd(headLength: 0, bodyStart: 4))
        let offset = Array("$\0\0\0HTTP/1.0 200 OK\r\n\r\n".utf8)
        XCTAssertEqual(HeadEnd.reply(in: offset[4...]), HeadEnd(headLength: 15, bodyStart: 19))
    }

    func testReplacingAllTakesTargetsOfAnyLength() {
        XCTAssertEqual("a--b--c".replacingAll("--", with: "+"), "a+b+c", "a two-character target used to trap")
        XCTAssertEqual("aaa".replacingAll("aa", with: "b"), "ba", "left to right, without overlaps")
        XCTAssertEqual("abc".replacingAll("", with: "x"), "abc")
        XCTAssertEqual("<<".replacingAll("<", with: "&lt;"), "&lt;&lt;")
        XCTAssertEqual(HTTPResponder.escape("a<b>&c"), "a&lt;b&gt;&amp;c")
    }

    func testEveryAnswerNamesTheSameServer() {
        let head = RequestHead(method: "GET", target: "/", version: "HTTP/1.0", headers: [])
        let rtsp = RequestHead(method: "OPTIONS", target: "*", version: "RTSP/1.0", headers: [])
        var answers = [
            HTTPResponder.respond(to: head, listener: "80/tcp"), HTTPResponder.badRequest(), RTSPResponder.badRequest(cseq: nil),
        ]
        answers.append(RTSPResponder.respond(to: rtsp, host: "192.0.2.1", port: 554))
        if case .listener(let icy) = ICYResponder.respond(to: head) { answers.append(icy) }
        for answer in answers { XCTAssertTrue(answer.headers.contains { $0 == ("Server", "streamd/0.1") }, "\(answer.headers)") }
        XCTAssertTrue(MMSResponder.respond(to: head).headers.contains { $0 == ("Server", "Cougar/9.01.01.3814") })
    }
}
