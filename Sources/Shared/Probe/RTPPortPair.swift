import FoundationEssentials
import PortModel

#if canImport(Glibc)
    import Glibc
#endif

/// A player's UDP port pair: RTP on an even port, RTCP on the odd one after it (RFC 3550 §11),
/// both non-blocking. Connected to the server's pair, so that only datagrams from its media ports
/// arrive; and what a player sends back on it: punch packets and RTCP receiver reports.
final class RTPPortPair {
    private(set) var rtp: Int32
    private(set) var rtcp: Int32
    /// The local RTP port; RTCP is on the next one.
    let port: Int
    /// The SSRC of this player's RTCP receiver reports.
    let ssrc = UInt32.random(in: 1...UInt32.max)

    private init(rtp: Int32, rtcp: Int32, port: Int) {
        self.rtp = rtp
        self.rtcp = rtcp
        self.port = port
    }

    /// Binds an even port and the odd one after it, from `source` when given; nil when 32 tries
    /// found no free pair.
    static func bind(family: Int32, source: String?) -> RTPPortPair? {
        for _ in 0..<32 {
            let first = makeUDP(family: family, port: 0, source: source)
            guard first.fd >= 0 else { return nil }
            let port = first.port
            if port % 2 != 0 || port >= 65535 {
                Glibc.close(first.fd)
                continue
            }
            let second = makeUDP(family: family, port: port + 1, source: source)
            if second.fd < 0 {
                Glibc.close(first.fd)
                continue
            }
            return RTPPortPair(rtp: first.fd, rtcp: second.fd, port: port)
        }
        return nil
    }

    private static func makeUDP(family: Int32, port: Int, source: String?) -> (fd: Int32, port: Int) {
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return (-1, 0) }
        var size: Int32 = 1 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let address = source ?? (family == AF_INET ? "0.0.0.0" : "::")
        guard ProbeSocket.bindSource(fd, address, family: family, port: port) == nil else {
            Glibc.close(fd)
            return (-1, 0)
        }
        var local = sockaddr_storage()
        var localLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &localLength) }
        }
        let boundPort = withUnsafeBytes(of: local) { raw -> Int in
            Int(UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self)))
        }
        return (fd, boundPort)
    }

    /// Connects RTP to `host`'s `rtpPort` and RTCP to its `rtcpPort`; false when either fails.
    func connect(host: String, rtpPort: Int, rtcpPort: Int) -> Bool {
        Self.connect(rtp, host: host, port: rtpPort) && Self.connect(rtcp, host: host, port: rtcpPort)
    }

    private static func connect(_ fd: Int32, host: String, port: Int) -> Bool {
        guard let address = ProbeSocket.resolve(host, port: port, transport: .udp).first else { return false }
        return address.withUnsafeBytes {
            Glibc.connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count))
        } == 0
    }

    /// Two empty RTP packets and two receiver reports, as ffmpeg sends before PLAY: they open NAT
    /// and stateful firewalls on the way, and streamd counts those that reach it.
    func punch() {
        for _ in 0..<2 {
            let punchRTP: [UInt8] = [0x80, 0x00] + [UInt8](repeating: 0, count: 10)
            _ = punchRTP.withUnsafeBytes { Glibc.send(rtp, $0.baseAddress, $0.count, 0) }
            sendReceiverReport()
        }
    }

    /// An empty RTCP receiver report (RFC 3550 §6.4.2) to the server's RTCP port, as players send
    /// them: streamd counts what arrives, and real servers drop sessions that send none.
    func sendReceiverReport() {
        guard rtcp >= 0 else { return }
        let report: [UInt8] = [
            0x80, 0xC9, 0x00, 0x01, UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF),
        ]
        _ = report.withUnsafeBytes { Glibc.send(rtcp, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
    }

    /// Closes both sockets; safe to call more than once.
    func close() {
        if rtp >= 0 { Glibc.close(rtp) }
        if rtcp >= 0 { Glibc.close(rtcp) }
        rtp = -1
        rtcp = -1
    }
}
