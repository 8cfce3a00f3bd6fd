import FoundationEssentials
import Glibc
import PortModel
import PortPlanning

/// A listening TCP socket or a bound UDP socket, as the kernel lists it in /proc/net.
public struct ListeningSocket: Sendable, Hashable {
    public let transport: Transport
    public let family: IPFamily
    /// The local address in text form: `0.0.0.0`, `127.0.0.1`, `::`, `::ffff:192.0.2.1`.
    public let address: String
    public let port: Int
    public let uid: Int
    public let inode: UInt64

    /// On a live system (`root` is `/`), asks the kernel through netlink sock_diag; under another
    /// root (test fixtures), or when netlink is unavailable, reads /proc/net/{tcp,tcp6,udp,udp6}.
    public static func all(root: String = "/", transports: [Transport] = [.tcp, .udp]) -> [ListeningSocket] {
        if root == "/", let sockets = SockDiag.listening(transports: transports) { return sockets }
        return fromProcNet(root: root).filter { transports.contains($0.transport) }
    }

    /// Reads /proc/net/{tcp,tcp6,udp,udp6} under `root`.
    public static func fromProcNet(root: String = "/") -> [ListeningSocket] {
        var result: [ListeningSocket] = []
        for (file, transport, family) in [
            ("tcp", Transport.tcp, IPFamily.ipv4), ("tcp6", .tcp, .ipv6), ("udp", .udp, .ipv4), ("udp6", .udp, .ipv6),
        ] {
            let path = Path.join(root, "proc/net/\(file)")
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            result += parse(String(decoding: data, as: UTF8.self), transport: transport, family: family)
        }
        return result
    }

    /// Parses one /proc/net table: TCP sockets in state LISTEN (0A), UDP sockets unconnected (07).
    public static func parse(_ text: String, transport: Transport, family: IPFamily) -> [ListeningSocket] {
        let wanted = transport == .tcp ? "0A" : "07"
        var result: [ListeningSocket] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 10, fields[3] == wanted else { continue }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, let port = Int(local[1], radix: 16), port > 0,
                let address = decodeAddress(String(local[0]), family: family),
                let uid = Int(fields[7]), let inode = UInt64(fields[9])
            else { continue }
            result.append(ListeningSocket(transport: transport, family: family, address: address, port: port, uid: uid, inode: inode))
        }
        return result
    }

    /// /proc/net prints addresses as 32-bit words in host byte order (little-endian here).
    package static func decodeAddress(_ hex: String, family: IPFamily) -> String? {
        let expected = family == .ipv4 ? 8 : 32
        guard hex.count == expected else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 8)
            guard let word = UInt32(hex[index..<next], radix: 16) else { return nil }
            let value = UInt32(littleEndian: word)
            bytes += [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
            index = next
        }
        if family == .ipv4 { return bytes.map(String.init).joined(separator: ".") }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return "::ffff:" + bytes[12...].map(String.init).joined(separator: ".")
        }
        var buffer = [CChar](repeating: 0, count: 64)
        var raw = bytes
        let ok = raw.withUnsafeMutableBytes { inet_ntop(AF_INET6, $0.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
    }
}
