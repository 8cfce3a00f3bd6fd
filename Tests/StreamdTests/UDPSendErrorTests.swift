import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import TestSupport
import XCTest

@testable import KnockAuth
@testable import PortModel
@testable import PortPlanning
@testable import StreamWire
@testable import streamd

/// Issue 11 item 5: a knock whose reply cannot be sent (a source port 0, a broadcast source)
/// must cost that one reply, be counted and logged, and never close the listener. Real sockets on
/// loopback; the forged datagrams are written with a raw socket, so those tests need root.
final class UDPSendErrorTests: XCTestCase {
    static let keyText = "udp-send-error-test-key"
    let key = SymmetricKey(data: Array(UDPSendErrorTests.keyText.utf8))

    /// A loopback UDP port nothing is bound to: bound, noted, and closed again.
    static func freeUDPPort() -> Int {
        let (descriptor, port) = boundLoopbackSocket(SOCK_DGRAM)
        close(descriptor)
        return port
    }

    /// A raw socket for forged IPv4 datagrams; skips the test without CAP_NET_RAW.
    func rawSocket() throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_RAW))
        if descriptor < 0 {
            throw XCTSkip("forging a source address needs a raw socket (CAP_NET_RAW, root): \(String(cString: strerror(errno)))")
        }
        return descriptor
    }

    /// Writes one UDP datagram from `source`:`sourcePort` to 127.0.0.1:`port` with a raw socket.
    func forge(_ raw: Int32, from source: String, port sourcePort: UInt16, to port: Int, payload: [UInt8]) {
        func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        func ipv4(_ text: String) -> [UInt8] { text.split(separator: ".").map { UInt8($0)! } }
        let udp = be16(Int(sourcePort)) + be16(port) + be16(8 + payload.count) + [0, 0] + payload
        // Version 4, header 20 bytes, TTL 64, UDP; the kernel fills in the checksum and the id.
        let ip: [UInt8] = [0x45, 0] + be16(20 + udp.count) + [0, 0, 0, 0, 64, 17, 0, 0] + ipv4(source) + ipv4("127.0.0.1")
        var destination = sockaddr_in()
        destination.sin_family = sa_family_t(AF_INET)
        destination.sin_addr.s_addr = inet_addr("127.0.0.1")
        let packet = ip + udp
        let sent = packet.withUnsafeBytes { bytes in
            withUnsafePointer(to: &destination) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(raw, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        XCTAssertEqual(sent, packet.count, "raw send: \(String(cString: strerror(errno)))")
    }

    /// Knocks on 127.0.0.1:`port` from an ordinary socket: true for a reply that verifies.
    func knock(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let request = Knock.Request.random(port: UInt16(port))
        var buffer = [UInt8](repeating: 0, count: 128)
        for _ in 0..<3 {
            _ = request.bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 300) > 0 else { continue }
            let got = recv(descriptor, &buffer, buffer.count, 0)
            return got > 0 && Knock.verify(reply: Array(buffer[0..<got]), for: request, key: key)
        }
        return false
    }

    func server(_ spec: ListenerSpec, logged: LogCapture) -> StreamServer {
        let server = StreamServer(key: KnockKey(key), threads: 1, logger: Logger(label: "test") { _ in logged })
        XCTAssertEqual(server.start([spec]), 1)
        server.serve()
        return server
    }

    func testAKnockWhoseReplyCannotBeSentCostsThatReplyOnly() throws {
        let raw = try rawSocket()
        defer { close(raw) }
        let port = Self.freeUDPPort()
        let logged = LogCapture()
        let spec = ListenerSpec(
            name: "\(port)/udp", transport: .udp, range: PortRange(single: try PortNumber(port)), service: .broadcast, labels: [],
            bindAddress: "127.0.0.1")
        let server = server(spec, logged: logged)
        defer { server.shutdown(grace: 0) }
        XCTAssertTrue(knock(port), "answers before")

        let request = Knock.Request.random(port: UInt16(port)).bytes
        // sendto() to port 0 is EINVAL; to a broadcast address without SO_BROADCAST, EACCES.
        forge(raw, from: "127.0.0.1", port: 0, to: port, payload: request)
        forge(raw, from: "127.255.255.255", port: 40000, to: port, payload: request)
        forge(raw, from: "127.0.0.7", port: 0, to: port, payload: request)
        usleep(200_000)

        XCTAssertTrue(knock(port), "the listener still answers after three replies that could not be sent")
        let listener = try XCTUnwrap(server.counters.listeners.first)
        XCTAssertEqual(listener.sendErrors, 3)
        XCTAssertEqual(listener.lastSendError, "Invalid argument (to 127.0.0.7 port 0)")
        XCTAssertEqual(listener.knocks, 5, "every valid knock is counted, sent or not")
        let warnings = logged.lines.filter { $0.contains("cannot send a UDP datagram") }
        XCTAssertEqual(warnings.count, 1, "one line per 10 s per listener, not one per datagram: \(logged.lines)")
        XCTAssertTrue(
            warnings.first?.contains("listener=\(port)/udp reason=Invalid argument to=127.0.0.1 port 0 unlogged=0") ?? false, "\(warnings)")
        let json = AdminResponder.json(server.counters).compact
        XCTAssertTrue(json.contains("\"send_errors\":3,\"last_send_error\":\"Invalid argument (to 127.0.0.7 port 0)\""), json)
    }

    func testRTPThatCannotBeSentKeepsTheMediaSockets() throws {
        let logged = LogCapture()
        // Only for its event loop, its media registry and its counters: nothing is bound through it.
        let server = StreamServer(key: KnockKey(key), threads: 1, logger: Logger(label: "test") { _ in logged })
        defer { server.shutdown(grace: 0) }
        let counters = server.counters
        let media = server.media
        counters.register(Counters.Listener(name: "media/udp", transport: .udp, ports: "media", service: .rtp, labels: [], bound: true))
        let errors = SendErrorLog(listener: "media/udp", counters: counters, logger: Logger(label: "test") { _ in logged })
        let limiter = NIOLockedValueBox(KnockRateLimiter())
        let key = KnockKey(self.key)
        let sockets = try (0..<2).map { _ in
            try UDPSocket.bind(host: "127.0.0.1", port: 0, on: media.loop, errors: errors) { socket in
                KnockHandler(key: key, listener: "media/udp", counters: counters, limiter: limiter, socket: socket, media: media)
            }
        }
        defer { for socket in sockets { try? socket.channel.close().wait() } }
        for socket in sockets { try socket.channel.setOption(ChannelOptions.autoRead, value: true).wait() }
        let ports = sockets.compactMap { $0.channel.localAddress?.port }
        // A session whose client address sendto() refuses (port 0: EINVAL), playing for 100 ms.
        let client = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
        let sink = MediaSink.udp(rtp: sockets[0], rtcp: sockets[1], to: client, rtcpTo: client, serverPorts: (ports[0], ports[1]))
        XCTAssertNotNil(media.add(owner: ObjectIdentifier(self), sink: sink, playing: true))
        // An RTP packet every 20 ms: wait (at most 2 s) for four of them to be refused.
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline, (counters.listeners.first?.sendErrors ?? 0) < 4 { usleep(20_000) }
        let listener = try XCTUnwrap(counters.listeners.first)
        XCTAssertGreaterThanOrEqual(listener.sendErrors, 4, "an RTP packet every 20 ms, and the first RTCP report, each refused")
        XCTAssertEqual(listener.lastSendError, "Invalid argument (to 127.0.0.1 port 0)")
        XCTAssertTrue(sockets.allSatisfy { $0.channel.isActive })
        XCTAssertTrue(knock(ports[0]), "the pair the RTP leaves from still answers knocks")
        XCTAssertTrue(knock(ports[1]))
        XCTAssertEqual(logged.lines.filter { $0.contains("cannot send a UDP datagram") }.count, 1, "\(logged.lines)")
    }
}
