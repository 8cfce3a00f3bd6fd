import CTLSLoader
import FoundationEssentials
import PortModel
import PortPlanning

#if canImport(Glibc)
    import Glibc
#endif

/// The probe's TLS check, on the system's OpenSSL (libssl3), loaded the first time a TLS check
/// runs (`CTLSLoader`: linked in, it cost every command a millisecond of start-up): a TLS session
/// (the certificate is not verified: this proves the path, not the identity), then RTMP's C0/C1
/// for RTMPS or an HTTP GET for HTTPS inside it. Blocking, on the probe's own worker thread, and
/// bounded by `timeout` from the first connect to the last byte.
public enum TLSProbe {
    public static let check: TLSCheck = { host, port, service, timeout in
        // OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a peer that resets the connection
        // mid-handshake must cost an EPIPE, not the whole probe.
        ignoreBrokenPipes
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        guard let address = ProbeSocket.resolve(host, port: port, transport: .tcp).first else {
            return (.error, "cannot resolve \(host)")
        }
        guard case .connected(let socket) = ProbeSocket.connect(address, timeout: timeout, source: nil) else {
            return (.openWrongProtocol, "open, but a second connection for TLS did not succeed")
        }
        defer { socket.close() }
        guard let ssl = OpenSSL.load() else { return (.error, "TLS check: \(String(cString: portctl_tls_error()))") }
        guard let context = ssl.SSL_CTX_new(ssl.TLS_client_method()) else { return (.error, "OpenSSL: no TLS context") }
        defer { ssl.SSL_CTX_free(context) }
        ssl.SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        guard let session = ssl.SSL_new(context) else { return (.error, "OpenSSL: no TLS session") }
        defer { ssl.SSL_free(session) }
        guard ssl.SSL_set_fd(session, socket.descriptor) == 1 else { return (.error, "OpenSSL: cannot attach the socket") }
        if (try? CIDR(parsing: host)) == nil { _ = ssl.setHostName(session, host) }

        let handshake = drive(ssl, session, socket.descriptor, deadline) { ssl.SSL_connect($0) }
        guard handshake.done else {
            return handshake.timedOut
                ? (.openWrongProtocol, "open, but no TLS session within \(timeout)s")
                : (.openWrongProtocol, "open, but no TLS handshake (\(handshake.reason))")
        }
        let request: [UInt8] =
            service == .rtmps
            ? [0x03] + [UInt8](repeating: 0, count: 1536)
            : Array("GET / HTTP/1.0\r\nHost: \(host)\r\nUser-Agent: portctl-probe\r\n\r\n".utf8)
        var offset = 0
        while offset < request.count {
            let step = request[offset...].withUnsafeBytes { bytes in
                drive(ssl, session, socket.descriptor, deadline) { ssl.SSL_write($0, bytes.baseAddress, Int32(bytes.count)) }
            }
            guard step.done else { return (.openWrongProtocol, "TLS, but the request could not be sent (\(step.reason))") }
            offset += Int(step.count)
        }
        let wanted = service == .rtmps ? 1537 : 12
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while reply.count < wanted {
            let step = buffer.withUnsafeMutableBytes { bytes in
                drive(ssl, session, socket.descriptor, deadline) { ssl.SSL_read($0, bytes.baseAddress, Int32(bytes.count)) }
            }
            if step.timedOut, reply.isEmpty { return (.openWrongProtocol, "TLS, but no reply inside it within \(timeout)s") }
            guard step.done, step.count > 0 else { break }
            reply += buffer[0..<Int(step.count)]
        }
        if service == .rtmps {
            return reply.count >= 1537 && reply[0] == 0x03
                ? (.ok, "RTMPS: TLS, then S0 version 3 and S1") : (.openWrongProtocol, "TLS, but no RTMP handshake inside")
        }
        let text = String(decoding: reply.prefix(80), as: UTF8.self)
        return text.hasPrefix("HTTP/1.")
            ? (.ok, "HTTPS: \(text.prefix { !$0.isNewline })") : (.openWrongProtocol, "TLS, but no HTTP inside")
    }

    /// SIGPIPE ignored for the process, once (a probe writes only to sockets and its report).
    static let ignoreBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    struct Step {
        var done = false
        var count: Int32 = 0
        var timedOut = false
        var reason = ""
    }

    /// Runs one OpenSSL call on the non-blocking socket, polling for what it wants, until it
    /// succeeds, fails, or the deadline passes.
    static func drive(
        _ ssl: OpenSSL, _ session: OpaquePointer, _ descriptor: Int32, _ deadline: ContinuousClock.Instant,
        _ call: (OpaquePointer) -> Int32
    ) -> Step {
        for _ in 0..<10_000 {
            ssl.ERR_clear_error()
            let result = call(session)
            if result > 0 { return Step(done: true, count: result) }
            let wants = ssl.SSL_get_error(session, result)
            let events: Int32
            switch wants {
            case SSL_ERROR_WANT_READ: events = Int32(POLLIN)
            case SSL_ERROR_WANT_WRITE: events = Int32(POLLOUT)
            case SSL_ERROR_ZERO_RETURN: return Step(done: true, count: 0)
            default:
                let code = ssl.ERR_get_error()
                guard code != 0, let text = ssl.ERR_reason_error_string(code) else { return Step(reason: "the peer closed the connection") }
                return Step(reason: String(cString: text))
            }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return Step(timedOut: true, reason: "timed out") }
            var poller = pollfd(fd: descriptor, events: Int16(events), revents: 0)
            let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
            if poll(&poller, 1, Int32(max(1, milliseconds))) == 0 { return Step(timedOut: true, reason: "timed out") }
        }
        return Step(reason: "no progress")
    }
}

/// OpenSSL's functions for the TLS check, as `portctl_tls_load` found them in libssl.so.3.
typealias OpenSSL = portctl_tls_api

extension portctl_tls_api {
    /// The functions, or nil when libssl.so.3 cannot be loaded (`portctl_tls_error` says why).
    static func load() -> OpenSSL? { portctl_tls_load()?.pointee }

    /// SNI: `SSL_set_tlsext_host_name`, a macro over SSL_ctrl.
    func setHostName(_ session: OpaquePointer, _ name: String) -> Int {
        name.withCString {
            SSL_ctrl(session, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0))
        }
    }
}
