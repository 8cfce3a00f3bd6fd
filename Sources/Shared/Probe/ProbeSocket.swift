import FoundationEssentials
import KnockAuth
import PlanRendering
import PortModel
import PortPlanning
import StreamWire

#if canImport(Glibc)
    import Glibc
#endif

/// Blocking socket operations with deadlines, for the probe's checks. Every call is bounded in
/// time (poll with a timeout) and in memory (reads stop at a byte limit).
struct ProbeSocket {
    let descriptor: Int32

    enum ConnectOutcome {
        case connected(ProbeSocket)
        case refused
        /// The handshake completed, then the peer reset the connection before we used it.
        case reset
        case timedOut
        case failed(String)
    }

    /// How a read ended.
    enum Ending: Equatable {
        /// `complete` said the reply is whole, or `limit` bytes arrived.
        case complete
        /// The peer closed the connection (FIN).
        case closed
        /// The peer reset the connection (RST).
        case reset
        case timedOut
    }

    /// Resolves HOST (a name or an address) to socket addresses, IPv4 first.
    static func resolve(_ host: String, port: Int, transport: Transport) -> [Data] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = transport == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(list) }
        var result: [(Int32, Data)] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            result.append((entry.pointee.ai_family, Data(bytes: entry.pointee.ai_addr, count: Int(entry.pointee.ai_addrlen))))
            cursor = entry.pointee.ai_next
        }
        return result.sorted { $0.0 == AF_INET && $1.0 != AF_INET }.map(\.1)
    }

    static func family(of address: Data) -> Int32 {
        address.withUnsafeBytes { Int32($0.load(as: sa_family_t.self)) }
    }

    /// Connects a TCP socket within `timeout` seconds, from `source` when given.
    static func connect(_ address: Data, timeout: Double, source: String?) -> ConnectOutcome {
        let descriptor = socket(
            family(of: address), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failed(String(cString: strerror(errno))) }
        if let source, let error = bindSource(descriptor, source, family: family(of: address)) {
            Glibc.close(descriptor)
            return .failed(error)
        }
        let started = address.withUnsafeBytes { raw in
            Glibc.connect(descriptor, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count))
        }
        if started != 0 && errno != EINPROGRESS {
            let code = errno
            Glibc.close(descriptor)
            return code == ECONNREFUSED ? .refused : .failed(String(cString: strerror(code)))
        }
        var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&poller, 1, Int32(timeout * 1000))
        guard ready > 0 else {
            Glibc.close(descriptor)
            return .timedOut
        }
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
        guard code == 0 else {
            Glibc.close(descriptor)
            if code == ECONNREFUSED { return .refused }
            if code == ECONNRESET { return .reset }
            if code == EHOSTUNREACH || code == ENETUNREACH || code == ETIMEDOUT { return .timedOut }
            return .failed(String(cString: strerror(code)))
        }
        return .connected(ProbeSocket(descriptor: descriptor))
    }

    /// Binds to `source` (and `port`, 0 for any); nil on success, else what went wrong.
    static func bindSource(_ descriptor: Int32, _ source: String, family: Int32, port: Int = 0) -> String? {
        guard let (addressFamily, bytes) = CIDR.parseAddress(source) else { return "--source: '\(source)' is not an address" }
        var storage = sockaddr_storage()
        var length: socklen_t
        if addressFamily == .ipv4 {
            guard family == AF_INET else { return "--source \(source) is IPv4 but the target is not" }
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = in_port_t(UInt16(port)).bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: bytes) }
            withUnsafeBytes(of: sin) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else {
            guard family == AF_INET6 else { return "--source \(source) is IPv6 but the target is not" }
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = in_port_t(UInt16(port)).bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: bytes) }
            withUnsafeBytes(of: sin6) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        let result = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, length) }
        }
        return result == 0 ? nil : "--source \(source): \(String(cString: strerror(errno)))"
    }

    func send(_ bytes: [UInt8]) -> Bool { write(bytes) == nil }

    /// Sends all of `bytes`; nil when they went, else the errno (ECONNRESET and EPIPE: the peer reset).
    func write(_ bytes: [UInt8]) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                let code = errno
                if code == EAGAIN {
                    var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    guard poll(&poller, 1, 1000) > 0 else { return ETIMEDOUT }
                    continue
                }
                return code
            }
            offset += sent
        }
        return nil
    }

    /// Reads until `complete` says the reply is whole, the peer closes, `limit` bytes arrive, or
    /// `timeout` passes: an endless or silent server costs at most that.
    func receive(timeout: Double, limit: Int = 16384, complete: ([UInt8]) -> Bool) -> [UInt8] {
        read(timeout: timeout, limit: limit, complete: complete).bytes
    }

    /// `receive`, and how the read ended: a close or a reset is an answer of its own.
    func read(timeout: Double, limit: Int = 16384, complete: ([UInt8]) -> Bool) -> (bytes: [UInt8], ending: Ending) {
        var data: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.count < limit, !complete(data) {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return (data, .timedOut) }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, left * 1000))) > 0 else { return (data, .timedOut) }
            let got = recv(descriptor, &buffer, min(buffer.count, limit - data.count), 0)
            if got == 0 { return (data, .closed) }
            if got < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return (data, errno == ECONNRESET ? .reset : .closed)
            }
            data += buffer[0..<got]
        }
        return (data, .complete)
    }

    func close() { _ = Glibc.close(descriptor) }
}
