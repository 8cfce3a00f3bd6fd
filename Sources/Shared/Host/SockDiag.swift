import FoundationEssentials
import PortModel
import PortPlanning

#if canImport(Glibc)
    import Glibc
#endif

/// Lists listening TCP and bound UDP sockets through netlink sock_diag, as `ss` does.
///
/// The kernel filters by state, so only listening sockets cross into user space; reading
/// /proc/net/tcp instead walks every established connection on the host.
public enum SockDiag {
    static let netlinkSockDiag: Int32 = 4
    static let sockDiagByFamily: UInt16 = 20
    static let doneType: UInt16 = 3
    static let errorType: UInt16 = 2
    // From <linux/netlink.h>, which Swift's Glibc module does not import.
    static let requestFlag: UInt16 = 0x1
    static let dumpFlags: UInt16 = 0x300

    /// Every listening TCP socket and unconnected UDP socket, IPv4 and IPv6; nil when netlink is unavailable.
    public static func listening(transports: [Transport] = [.tcp, .udp]) -> [ListeningSocket]? {
        var result: [ListeningSocket] = []
        for transport in transports {
            for family in [IPFamily.ipv4, .ipv6] {
                guard let sockets = dump(transport: transport, family: family) else { return nil }
                result += sockets
            }
        }
        return result
    }

    static func dump(transport: Transport, family: IPFamily) -> [ListeningSocket]? {
        let descriptor = socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkSockDiag)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }

        // struct nlmsghdr (16 bytes) + struct inet_diag_req_v2 (56 bytes).
        var request = [UInt8](repeating: 0, count: 72)
        func put32(_ value: UInt32, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { request.replaceSubrange(offset..<offset + 4, with: $0) }
        }
        func put16(_ value: UInt16, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { request.replaceSubrange(offset..<offset + 2, with: $0) }
        }
        put32(72, at: 0)
        put16(sockDiagByFamily, at: 4)
        put16(requestFlag | dumpFlags, at: 6)
        put32(1, at: 8)
        request[16] = UInt8(family == .ipv4 ? AF_INET : AF_INET6)
        request[17] = UInt8(transport == .tcp ? IPPROTO_TCP : IPPROTO_UDP)
        // TCP_LISTEN is state 10; an unconnected UDP socket is in TCP_CLOSE, state 7.
        put32(transport == .tcp ? 1 << 10 : 1 << 7, at: 20)

        // struct sockaddr_nl: family (u16), pad (u16), pid (u32), groups (u32); all zero but the family.
        var address = [UInt8](repeating: 0, count: 12)
        withUnsafeBytes(of: UInt16(AF_NETLINK).littleEndian) { address.replaceSubrange(0..<2, with: $0) }
        let sent = address.withUnsafeBytes { raw in
            sendto(descriptor, request, request.count, 0, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(12))
        }
        guard sent == request.count else { return nil }

        var sockets: [ListeningSocket] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<100_000 {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            var offset = 0
            while offset + 16 <= count {
                let length = Int(read32(buffer, offset))
                let type = read16(buffer, offset + 4)
                guard length >= 16, offset + length <= count else { return sockets }
                if type == doneType { return sockets }
                if type == errorType { return nil }
                if type == sockDiagByFamily, length >= 16 + 72 {
                    if let socket = parse(buffer, at: offset + 16, transport: transport, family: family) { sockets.append(socket) }
                }
                offset += (length + 3) & ~3
            }
        }
        return sockets
    }

    /// struct inet_diag_msg: family, state, timer, retrans, sockid (sport, dport, src[16], dst[16], if, cookie), expires, rqueue, wqueue, uid, inode.
    static func parse(_ buffer: [UInt8], at base: Int, transport: Transport, family: IPFamily) -> ListeningSocket? {
        let port = Int(buffer[base + 4]) << 8 | Int(buffer[base + 5])
        guard port > 0 else { return nil }
        let source = Array(buffer[(base + 8)..<(base + 24)])
        let address: String
        if family == .ipv4 {
            address = source[0..<4].map(String.init).joined(separator: ".")
        } else if source[0..<10].allSatisfy({ $0 == 0 }), source[10] == 0xFF, source[11] == 0xFF {
            address = "::ffff:" + source[12...].map(String.init).joined(separator: ".")
        } else {
            var text = [CChar](repeating: 0, count: 64)
            var raw = source
            let ok = raw.withUnsafeMutableBytes { inet_ntop(AF_INET6, $0.baseAddress, &text, socklen_t(text.count)) != nil }
            guard ok else { return nil }
            address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let uid = Int(read32(buffer, base + 64))
        let inode = UInt64(read32(buffer, base + 68))
        return ListeningSocket(transport: transport, family: family, address: address, port: port, uid: uid, inode: inode)
    }

    static func read32(_ buffer: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(buffer[offset]) | UInt32(buffer[offset + 1]) << 8 | UInt32(buffer[offset + 2]) << 16 | UInt32(buffer[offset + 3]) << 24
    }

    static func read16(_ buffer: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(buffer[offset]) | UInt16(buffer[offset + 1]) << 8
    }
}
