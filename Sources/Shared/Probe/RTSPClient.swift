import FoundationEssentials
import StreamWire

#if canImport(Glibc)
    import Glibc
#endif

/// The RTSP control connection of one media session: requests out, replies in, and the RTP that
/// comes `$`-framed on the same connection handed to `interleaved`. Through QuickTime's HTTP
/// tunnel, replies and media come on a GET connection and requests go base64 on a POST.
///
/// Every failure throws what the session's verdict reads: the connection refused, reset or
/// silent, or a reply that is not one.
final class RTSPClient {
    let tunnelled: Bool
    /// The RTSP connection, or the tunnel's GET.
    private(set) var control: ProbeSocket?
    /// The tunnel's POST.
    private var post: ProbeSocket?
    /// The session SETUP gave; every later request carries it.
    var session = ""
    private var cseq = 0
    /// Bytes read from the control connection and not yet parsed.
    var pending: [UInt8] = []
    /// Called with each RTP packet on interleaved channel 0, and the time it was read.
    var interleaved: ([UInt8], Double) -> Void = { _, _ in }

    init(tunnelled: Bool) {
        self.tunnelled = tunnelled
    }

    /// Connects to `address`; for the tunnel, opens its GET (which must be answered 200) and its POST.
    func open(_ address: Data, path: String, timeout: Double, source: String?) throws(MediaFailure) {
        control = try Self.connect(address, timeout: timeout, source: source, what: tunnelled ? "the tunnel's GET" : "RTSP")
        guard tunnelled, let control else { return }
        let cookie = String((0..<22).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement() ?? "a" })
        let get =
            "GET \(path) HTTP/1.0\r\nUser-Agent: portctl-probe\r\nx-sessioncookie: \(cookie)\r\n"
            + "Accept: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\r\n"
        _ = control.send(Array(get.utf8))
        switch readReply(timeout: timeout, protocol: "HTTP/") {
        case .reply(let reply) where reply.status == 200: break
        default: throw MediaFailure(.openWrongProtocol, "the RTSP-over-HTTP tunnel's GET was not answered 200")
        }
        let post = try Self.connect(address, timeout: timeout, source: source, what: "the tunnel's POST")
        self.post = post
        let head =
            "POST \(path) HTTP/1.0\r\nUser-Agent: portctl-probe\r\nx-sessioncookie: \(cookie)\r\n"
            + "Content-Type: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n"
            + "Content-Length: 32767\r\nExpires: Sun, 9 Jan 1972 00:00:00 GMT\r\n\r\n"
        _ = post.send(Array(head.utf8))
    }

    private static func connect(_ address: Data, timeout: Double, source: String?, what: String) throws(MediaFailure) -> ProbeSocket {
        switch ProbeSocket.connect(address, timeout: timeout, source: source) {
        case .connected(let socket): return socket
        case .refused: throw MediaFailure(.closed, "\(what): connection refused")
        case .reset: throw MediaFailure(.openWrongProtocol, "\(what): the server reset the connection")
        case .timedOut: throw MediaFailure(.filtered, "\(what): no answer to the connection within \(ProbeCheck.format(timeout))s")
        case .failed(let reason): throw MediaFailure(.error, "\(what): \(reason)")
        }
    }

    /// Sends one request: through the POST side, base64, for the tunnel. False when it could not go.
    func send(_ method: String, _ url: String, _ headers: [String]) -> Bool {
        cseq += 1
        var text = "\(method) \(url) RTSP/1.0\r\nCSeq: \(cseq)\r\nUser-Agent: portctl-probe\r\n"
        if !session.isEmpty { text += "Session: \(session)\r\n" }
        for header in headers { text += header + "\r\n" }
        text += "\r\n"
        if tunnelled { return post?.send(Array(Data(text.utf8).base64EncodedString().utf8)) ?? false }
        return control?.send(Array(text.utf8)) ?? false
    }

    /// Sends one request and reads its reply, whatever the status; throws when no reply came.
    func exchange(_ method: String, _ url: String, _ headers: [String], timeout: Double) throws(MediaFailure) -> RTSPReply {
        guard send(method, url, headers) else { throw MediaFailure(.openWrongProtocol, "\(method): the server closed the connection") }
        switch readReply(timeout: timeout, protocol: "RTSP/") {
        case .reply(let reply): return reply
        case .timedOut: throw MediaFailure(.openWrongProtocol, "\(method): no RTSP reply within \(ProbeCheck.format(timeout))s")
        case .closed: throw MediaFailure(.openWrongProtocol, "\(method): the server closed the connection")
        case .reset: throw MediaFailure(.openWrongProtocol, "\(method): the server reset the connection")
        case .garbage(let text):
            throw MediaFailure(.openWrongProtocol, "\(method): expected an RTSP reply, got \(ProbeCheck.describe(text))")
        }
    }

    enum ReadOutcome {
        case reply(RTSPReply)
        case timedOut
        case closed
        case reset
        /// Something that is not a reply of the protocol: its first line.
        case garbage(String)
    }

    /// Reads one RTSP or HTTP reply (starting with `protocol`) from the control connection;
    /// interleaved packets that come before it are counted as media.
    private func readReply(timeout: Double, protocol prefix: String) -> ReadOutcome {
        guard let control else { return .closed }
        let deadline = monotonic() + timeout
        var buffer = [UInt8](repeating: 0, count: 8192)
        for _ in 0..<1_000_000 {
            if let outcome = takeReply(protocol: prefix) { return outcome }
            let left = deadline - monotonic()
            guard left > 0 else { return .timedOut }
            guard pending.count < 256 * 1024 else { return .garbage(String(decoding: pending.prefix(80), as: UTF8.self)) }
            var poller = pollfd(fd: control.descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, left * 1000))) > 0 else { return .timedOut }
            let got = recv(control.descriptor, &buffer, buffer.count, 0)
            if got == 0 { return .closed }
            if got < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return errno == ECONNRESET ? .reset : .closed
            }
            pending += buffer[0..<got]
        }
        return .timedOut
    }

    /// A whole reply off the front of `pending` (after any interleaved frames), garbage as soon as
    /// the bytes cannot begin one, or nil while more must come.
    func takeReply(protocol prefix: String) -> ReadOutcome? {
        consumeFrames(now: monotonic())
        if InterleavedFrame.starts(pending[...]) { return nil }
        let expected = Array(prefix.utf8)
        let compared = min(pending.count, expected.count)
        if Array(pending[0..<compared]) != Array(expected[0..<compared]) {
            return .garbage(String(String(decoding: pending.prefix(200), as: UTF8.self).prefix { !$0.isNewline }))
        }
        guard let (reply, used) = RTSPReply.parse(pending) else { return nil }
        pending.removeFirst(used)
        return .reply(reply)
    }

    /// Takes `$`-framed packets off the front of `pending`; RTP on channel 0 goes to `interleaved`.
    func consumeFrames(now: Double) {
        var offset = 0
        while let frame = InterleavedFrame.parse(pending[offset...]) {
            if frame.channel == 0 { interleaved(Array(frame.payload), now) }
            offset += frame.consumed
        }
        if offset > 0 { pending.removeFirst(offset) }
    }

    /// Closes the connections; safe to call more than once.
    func close() {
        control?.close()
        post?.close()
        control = nil
        post = nil
    }
}
