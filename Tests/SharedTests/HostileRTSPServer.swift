import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// An RTSP server on 127.0.0.1 that misbehaves on purpose, for the media check's tests: it answers
/// OPTIONS, DESCRIBE, SETUP (UDP and interleaved) and PLAY like a real server, then does what
/// `behaviour` says. One thread per connection; everything closes when the test ends.
final class HostileRTSPServer: @unchecked Sendable {
    enum Behaviour: String, CaseIterable {
        /// Closes the control connection (FIN) right after answering PLAY.
        case closeAfterPlay
        /// Resets the control connection (SO_LINGER 0, RST) right after answering PLAY.
        case resetAfterPlay
        /// Streams RTP after PLAY and answers everything but TEARDOWN, which it never answers.
        case ignoreTeardown
        /// Answers DESCRIBE with binary garbage that ends like a head.
        case garbage
        /// Streams RTP after PLAY and answers everything, GET_PARAMETER with an `X-Streamd-RTCP`
        /// header counting the RTP/RTCP datagrams the player sent to the server's UDP pair.
        case streamdLike
        /// Like `streamdLike`, but its header says no datagram from the player arrived: RTCP in is blocked.
        case oneWay
    }

    let behaviour: Behaviour
    private(set) var port = 0
    /// The server's RTP/RTCP pair (UDP): RTP leaves from the first.
    private(set) var mediaPort = 0
    private var listener: Int32 = -1
    private var rtp: Int32 = -1
    private var rtcp: Int32 = -1
    private let lock = NSLock()
    private var fromPlayer = 0
    private var stopped = false

    init(_ behaviour: Behaviour) throws {
        self.behaviour = behaviour
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard Self.bind(listener, port: 0), listen(listener, 128) == 0 else { throw POSIXError(.EADDRINUSE) }
        port = Self.localPort(listener)
        // An even/odd UDP pair for server_port.
        for _ in 0..<32 where rtp < 0 {
            let first = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard Self.bind(first, port: 0) else {
                close(first)
                continue
            }
            let even = Self.localPort(first)
            let second = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            if even % 2 == 0, even < 65535, Self.bind(second, port: even + 1) {
                rtp = first
                rtcp = second
                mediaPort = even
            } else {
                close(first)
                close(second)
            }
        }
        guard rtp >= 0 else { throw POSIXError(.EADDRINUSE) }
        let listener = self.listener
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                Thread.detachNewThread { self.serve(client) }
            }
        }
        // Count what players send to the pair (punch packets, receiver reports), as streamd does.
        for socket in [rtp, rtcp] {
            Thread.detachNewThread { [self] in
                var buffer = [UInt8](repeating: 0, count: 2048)
                while !isStopped {
                    var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
                    guard poll(&poller, 1, 100) > 0 else { continue }
                    if recv(socket, &buffer, buffer.count, Int32(MSG_DONTWAIT)) > 0 {
                        lock.lock()
                        fromPlayer += 1
                        lock.unlock()
                    }
                }
            }
        }
    }

    var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    var datagramsFromPlayers: Int {
        lock.lock()
        defer { lock.unlock() }
        return fromPlayer
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        // Give the pollers one period to see the flag before their sockets go.
        usleep(150_000)
        close(rtp)
        close(rtcp)
    }

    static func bind(_ descriptor: Int32, port: Int) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    static func localPort(_ descriptor: Int32) -> Int {
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: bound.sin_port))
    }

    /// One connection: read request heads, answer each as `behaviour` says; bounded to 30 s.
    private func serve(_ client: Int32) {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var clientRTP: Int?
        var interleaved = false
        var streaming = false
        var sequence: UInt16 = 0
        let started = Date()
        defer { close(client) }
        while Date().timeIntervalSince(started) < 30, !isStopped {
            if streaming {
                sendRTP(client: client, interleaved: interleaved, clientRTP: clientRTP, sequence: sequence)
                sequence &+= 1
            }
            var poller = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 20) >= 0 else { return }
            if poller.revents != 0 {
                let got = recv(client, &buffer, buffer.count, 0)
                if got <= 0 { return }
                pending += buffer[0..<got]
            }
            while let end = Self.headEnd(pending) {
                let head = String(decoding: pending[0..<end], as: UTF8.self)
                pending.removeFirst(end + 4)
                let lines = head.split(separator: "\r\n").map(String.init)
                let method = lines.first?.split(separator: " ").first.map(String.init) ?? ""
                let cseq =
                    lines.first { $0.lowercased().hasPrefix("cseq:") }.map { String($0.dropFirst(5)).trimmingCharacters(in: .whitespaces) }
                    ?? "0"
                let transport = lines.first { $0.lowercased().hasPrefix("transport:") } ?? ""
                func answer(_ text: String) { _ = text.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }
                switch method {
                case "DESCRIBE":
                    if behaviour == .garbage {
                        let junk: [UInt8] = [0x00, 0xFF, 0x13, 0x37] + Array("\u{7}GARBAGE\r\n\r\n".utf8)
                        _ = send(client, junk, junk.count, Int32(MSG_NOSIGNAL))
                        continue
                    }
                    let sdp =
                        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=hostile\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:trackID=0\r\n"
                    // Like streamd, the servers that count what players send say who they are.
                    let server = behaviour == .streamdLike || behaviour == .oneWay ? "Server: streamd/0.1\r\n" : ""
                    answer(
                        "RTSP/1.0 200 OK\r\nCSeq: \(cseq)\r\n\(server)Content-Base: rtsp://127.0.0.1:\(port)/test/\r\nContent-Type: application/sdp\r\nContent-Length: \(sdp.utf8.count)\r\n\r\n\(sdp)"
                    )
                case "SETUP":
                    if let field = transport.split(separator: ";").first(where: { $0.hasPrefix("client_port=") }) {
                        clientRTP = Int(field.dropFirst("client_port=".count).split(separator: "-")[0])
                        answer(
                            "RTSP/1.0 200 OK\r\nCSeq: \(cseq)\r\nSession: 12345678;timeout=60\r\nTransport: RTP/AVP;unicast;client_port=\(clientRTP ?? 0)-\((clientRTP ?? 0) + 1);server_port=\(mediaPort)-\(mediaPort + 1)\r\n\r\n"
                        )
                    } else {
                        interleaved = true
                        answer(
                            "RTSP/1.0 200 OK\r\nCSeq: \(cseq)\r\nSession: 12345678;timeout=60\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
                        )
                    }
                case "PLAY":
                    answer("RTSP/1.0 200 OK\r\nCSeq: \(cseq)\r\nSession: 12345678\r\n\r\n")
                    switch behaviour {
                    case .closeAfterPlay: return
                    case .resetAfterPlay:
                        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                        setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                        return
                    default: streaming = true
                    }
                case "TEARDOWN":
                    if behaviour == .ignoreTeardown { continue }
                    answer("RTSP/1.0 200 OK\r\nCSeq: \(cseq)\r\n\r\n")
                    streaming = false
                case "GET_PARAMETER":
                    let counted =
                        behaviour == .streamdLike
                        ? "X-Streamd-RTCP: received=\(datagramsFromPlayers)\r\n"
                        : behaviour == .oneWay ? "X-Streamd-RTCP: received=0\r\n" : ""
                    answer("RTSP/1.0 200 OK\r\nCSeq: \(cseq)\r\nSession: 12345678\r\n\(counted)\r\n")
                default:
                    answer("RTSP/1.0 200 OK\r\nCSeq: \(cseq)\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n")
                }
            }
        }
    }

    /// One RTP packet (PCMU, 160 samples): on the connection, or from the RTP port to the client's.
    private func sendRTP(client: Int32, interleaved: Bool, clientRTP: Int?, sequence: UInt16) {
        let timestamp = UInt32(sequence) &* 160
        let packet: [UInt8] =
            [
                0x80, 0x00, UInt8(sequence >> 8), UInt8(sequence & 0xFF), UInt8(timestamp >> 24), UInt8((timestamp >> 16) & 0xFF),
                UInt8((timestamp >> 8) & 0xFF), UInt8(timestamp & 0xFF), 0, 0, 0, 1,
            ] + [UInt8](repeating: 0xFF, count: 160)
        if interleaved {
            let frame = [0x24, 0x00, UInt8(packet.count >> 8), UInt8(packet.count & 0xFF)] + packet
            _ = send(client, frame, frame.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        } else if let clientRTP {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(clientRTP)).bigEndian
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(rtp, packet, packet.count, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        return (0...(bytes.count - 4)).first { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 }
    }
}
