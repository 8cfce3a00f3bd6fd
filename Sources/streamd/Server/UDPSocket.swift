import FoundationEssentials
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Where a UDP listener's datagrams go out: the knock's replies and the media pump's RTP and RTCP.
///
/// `send` is called on `channel`'s event loop, and never closes the socket: a datagram that cannot
/// be sent is dropped and counted.
protocol UDPSender: AnyObject, Sendable {
    /// The channel that reads this socket.
    var channel: Channel { get }
    /// Sends one datagram now, or drops it; true when the kernel took it.
    @discardableResult
    func send(_ datagram: ByteBuffer, to address: SocketAddress) -> Bool
    /// The same, from `local`: the address the request was sent to, so that a host with several
    /// addresses answers from the one it was asked on (a connected client accepts no other).
    @discardableResult
    func send(_ datagram: ByteBuffer, to address: SocketAddress, from local: SocketAddress?) -> Bool
}

extension UDPSender {
    /// Test doubles send from wherever they send.
    @discardableResult
    func send(_ datagram: ByteBuffer, to address: SocketAddress, from local: SocketAddress?) -> Bool { send(datagram, to: address) }
}

/// A UDP socket that streamd creates and binds itself, then hands to NIO for reading only.
///
/// Datagrams go out with `sendto(2)` (`MSG_DONTWAIT`) on its descriptor, not through the channel:
/// NIO's datagram channel closes itself on any send error other than EMSGSIZE and EHOSTUNREACH,
/// so a single knock whose reply cannot be sent (a source port 0, a broadcast or an unroutable
/// source address, EINVAL, EACCES, ENETUNREACH) would close the listener for good, and with it a
/// whole redirected range. Here every errno is the same: that datagram is dropped, counted on the
/// listener (the admin page's `send_errors`), logged at most once per `SendErrorLog.interval`,
/// and the socket stays open. A full send buffer (EAGAIN) drops the datagram too, as a live
/// stream loses packets.
final class UDPSocket: UDPSender, @unchecked Sendable {
    let descriptor: CInt
    let family: CInt
    let errors: SendErrorLog
    /// Set once, right after NIO has taken the socket, before anything is read or sent.
    private var _channel: Channel?
    var channel: Channel { _channel! }

    private init(descriptor: CInt, family: CInt, errors: SendErrorLog) {
        self.descriptor = descriptor
        self.family = family
        self.errors = errors
    }

    /// Binds `host:port` (a `::` socket takes IPv4 too) and registers it with NIO on `loop`, with
    /// `handler` made for it; reading starts with autoRead, which `StreamServer.serve()` turns on.
    static func bind(
        host: String, port: Int, on loop: EventLoop, sendBuffer: Int? = nil, errors: SendErrorLog,
        handler: @escaping @Sendable (UDPSocket) -> ChannelHandler
    ) throws -> UDPSocket {
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let family: CInt
        switch address {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        default: throw IOError(errnoCode: EAFNOSUPPORT, reason: "UDP on \(address)")
        }
        let descriptor = Glibc.socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        func option(_ level: CInt, _ name: CInt, _ value: CInt) throws {
            var value = value
            guard setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<CInt>.size)) == 0 else {
                let code = errno
                close(descriptor)
                throw IOError(errnoCode: code, reason: "setsockopt")
            }
        }
        try option(SOL_SOCKET, SO_REUSEADDR, 1)
        // Dual-stack whatever net.ipv6.bindv6only says, as NIO's own bind behaved on Linux.
        if family == AF_INET6 { try option(CInt(IPPROTO_IPV6), IPV6_V6ONLY, 0) }
        if let sendBuffer { try option(SOL_SOCKET, SO_SNDBUF, CInt(sendBuffer)) }
        let bound = address.withSockAddr { Glibc.bind(descriptor, $0, socklen_t($1)) }
        guard bound == 0 else {
            let code = errno
            close(descriptor)
            throw IOError(errnoCode: code, reason: "bind(descriptor:ptr:bytes:)")
        }
        let socket = UDPSocket(descriptor: descriptor, family: family, errors: errors)
        // From here NIO owns the descriptor: it closes it with the channel, and on any failure here.
        let channel = try DatagramBootstrap(group: loop)
            .channelOption(ChannelOptions.autoRead, value: false)
            // Each datagram says which local address it was sent to (IP_PKTINFO, IPV6_RECVPKTINFO).
            .channelOption(ChannelOptions.receivePacketInfo, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler(socket)) }
            }
            .withBoundSocket(descriptor)
            .wait()
        socket._channel = channel
        return socket
    }

    @discardableResult
    func send(_ datagram: ByteBuffer, to address: SocketAddress) -> Bool { send(datagram, to: address, from: nil) }

    @discardableResult
    func send(_ datagram: ByteBuffer, to address: SocketAddress, from local: SocketAddress?) -> Bool {
        // On the channel's loop, where NIO closes the descriptor: once it is closed, never touch it.
        channel.eventLoop.assertInEventLoop()
        guard channel.isActive else { return false }
        let destination = Self.inFamily(address, family)
        let control = local.flatMap { Self.sourceControl(Self.inFamily($0, family)) } ?? []
        let sent = datagram.withUnsafeReadableBytes { bytes in
            destination.withSockAddr { name, length in
                if control.isEmpty {
                    return Glibc.sendto(
                        descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL), name, socklen_t(length))
                }
                var vector = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
                var control = control
                return withUnsafeMutablePointer(to: &vector) { vector in
                    control.withUnsafeMutableBytes { control in
                        var message = msghdr()
                        message.msg_name = UnsafeMutableRawPointer(mutating: name)
                        message.msg_namelen = socklen_t(length)
                        message.msg_iov = vector
                        message.msg_iovlen = 1
                        message.msg_control = control.baseAddress
                        message.msg_controllen = control.count
                        return Glibc.sendmsg(descriptor, &message, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
                    }
                }
            }
        }
        if sent >= 0 {
            errors.counters.countUDPBytes(sent)
            return true
        }
        errors.record(errno: errno, to: address)
        return false
    }

    /// The control message that sets a datagram's source address: IP_PKTINFO (`ipi_spec_dst`) for
    /// IPv4, IPV6_PKTINFO (`ipi6_addr`) for IPv6, laid out as `cmsghdr` and `in_pktinfo` or
    /// `in6_pktinfo` are on Linux; nil for any other address.
    static func sourceControl(_ local: SocketAddress) -> [UInt8]? {
        let header = MemoryLayout<cmsghdr>.size
        func message(level: CInt, type: CInt, data: [UInt8]) -> [UInt8] {
            let length = header + data.count
            let space = (length + MemoryLayout<Int>.size - 1) / MemoryLayout<Int>.size * MemoryLayout<Int>.size
            var bytes = [UInt8](repeating: 0, count: space)
            bytes.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: length, toByteOffset: 0, as: Int.self)
                raw.storeBytes(of: level, toByteOffset: MemoryLayout<Int>.size, as: CInt.self)
                raw.storeBytes(of: type, toByteOffset: MemoryLayout<Int>.size + MemoryLayout<CInt>.size, as: CInt.self)
            }
            bytes.replaceSubrange(header..<header + data.count, with: data)
            return bytes
        }
        // The address's bytes from the socket address itself: sin_addr is at offset 4 of a
        // sockaddr_in, sin6_addr at offset 8 of a sockaddr_in6.
        let raw = local.withSockAddr { pointer, length in Array(UnsafeRawBufferPointer(start: pointer, count: length)) }
        switch local {
        case .v4 where raw.count >= 8:
            // in_pktinfo: ipi_ifindex (0: any), ipi_spec_dst (the source), ipi_addr (unused here).
            // IP_PKTINFO is 8 in linux/in.h.
            return message(level: CInt(IPPROTO_IP), type: 8, data: [0, 0, 0, 0] + raw[4..<8] + [0, 0, 0, 0])
        case .v6 where raw.count >= 24:
            // in6_pktinfo: ipi6_addr (the source), ipi6_ifindex (0: any). IPV6_PKTINFO is 50 in linux/in6.h.
            return message(level: CInt(IPPROTO_IPV6), type: 50, data: Array(raw[8..<24]) + [0, 0, 0, 0])
        default:
            return nil
        }
    }

    /// An IPv4 address as ::ffff:a.b.c.d for an IPv6 (dual-stack) socket; unchanged otherwise.
    static func inFamily(_ address: SocketAddress, _ family: CInt) -> SocketAddress {
        guard family == AF_INET6, case .v4 = address, let text = address.ipAddress, let port = address.port else { return address }
        return (try? SocketAddress(ipAddress: "::ffff:" + text, port: port)) ?? address
    }
}
