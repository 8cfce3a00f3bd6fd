#if canImport(StreamWire)
    import StreamWire  // the SwiftPM build; scripts/fuzz compiles the parsers into this module instead
#endif

/// One fuzz input through every parser streamd exposes to the network: request heads (RTSP,
/// HTTP, ICY, MMSH), `$` interleaved frames and the end of a head (which the probe reads too),
/// the RTMP handshake and chunk stream, and AMF0. A crash, a hang or a
/// runaway allocation is a finding; answers themselves are not checked here (the tests do that).
func fuzzOne(_ bytes: [UInt8]) {
    if case .head(let head, _) = RequestHead.parse(bytes) {
        _ = RTSPResponder.respond(to: head, host: "192.0.2.1", port: 554).bytes
        // And with a media host that plays along, so SETUP, PLAY, PAUSE and TEARDOWN are reached.
        _ = RTSPResponder.respond(to: head, host: "192.0.2.1", port: 554, media: AcceptingMediaHost()).bytes
        _ = head.header("Transport").map(RTSPTransportRequest.parse)
        _ = HTTPResponder.respond(to: head, listener: "80/tcp").bytes
        _ = ICYResponder.respond(to: head)
        _ = MMSResponder.respond(to: head).bytes
        _ = head.contentLength
    }
    _ = MMSResponder.isMMST(bytes)
    var framed = 0
    while let frame = InterleavedFrame.parse(bytes[framed...]) { framed += frame.consumed }
    _ = HeadEnd.request(in: bytes[...])
    _ = HeadEnd.reply(in: bytes[...])
    _ = AMF0.decodeAll(bytes)
    // RTMP from the first byte, and again after a valid handshake so the chunk parser is reached.
    var raw = RTMPSession(serverRandom: [UInt8](repeating: 0, count: 1528))
    _ = raw.receive(bytes)
    var session = RTMPSession(serverRandom: [UInt8](repeating: 0, count: 1528))
    _ = session.receive([0x03] + [UInt8](repeating: 0, count: 1536 * 2))
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + 1 + Int(bytes[offset]) % 300)
        _ = session.receive(Array(bytes[offset..<end]))
        offset = end
    }
}

/// A media host that sets up anything it is offered and knows every session.
final class AcceptingMediaHost: RTSPMediaHost {
    func setup(_ offers: [RTSPTransportRequest], session: String?) -> RTSPSetupOutcome {
        for offer in offers {
            switch offer {
            case .udp(let rtp, let rtcp):
                return .ok(
                    session: session ?? "0123456789abcdef",
                    transport: RTSPResponder.udpTransport(clientRTP: rtp, clientRTCP: rtcp, serverRTP: 6970, serverRTCP: 6971, ssrc: 1))
            case .interleaved(let rtp, let rtcp):
                return .ok(
                    session: session ?? "0123456789abcdef", transport: RTSPResponder.interleavedTransport(rtp: rtp, rtcp: rtcp, ssrc: 1))
            case .unsupported:
                continue
            }
        }
        return .unsupportedTransport("none")
    }
    func play(session: String) -> (sequence: UInt16, rtpTime: UInt32)? { (1, 2) }
    func pause(session: String) -> Bool { true }
    func teardown(session: String) -> Bool { true }
    func touch(session: String) -> Bool { true }
}

#if FUZZING
    /// libFuzzer's entry point (build with -sanitize=fuzzer -DFUZZING; see fuzz/README.md).
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
        fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
#else
    /// Without the fuzzer: replays corpus files, or files of crashes the fuzzer found.
    @main
    struct Replay {
        static func main() {
            var count = 0
            for path in CommandLine.arguments.dropFirst() {
                guard let file = fopen(path, "rb") else { continue }
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let got = fread(&chunk, 1, chunk.count, file)
                    if got <= 0 { break }
                    bytes += chunk[0..<got]
                }
                fclose(file)
                fuzzOne(bytes)
                count += 1
            }
            print("replayed \(count) inputs without a crash")
        }
    }
#endif

#if canImport(Glibc)
    import Glibc
#endif
