import FoundationEssentials
import KnockAuth
import PortModel
import StreamWire

#if canImport(Glibc)
    import Glibc
#endif

/// The UDP knock checks of a probe, all on one thread: each knock in flight is a socket in one
/// poll set and two times (its next send and its deadline). A thread each cost more than the
/// knocks themselves once a probe has hundreds: a twenty-host probe of the DSS plan knocks 800
/// ports (bench/README.md, issue 16).
///
/// A knock (Shared/Wire) is sent up to `sends` times, `every` seconds apart (a probe's: three
/// times, a third of the timeout apart, so that one lost datagram does not read as a firewall),
/// each send when the host's `KnockPacer` lets it go. A valid reply under the key is streamd,
/// ECONNREFUSED (an ICMP port unreachable on the connected socket) is closed, and silence for
/// `window` seconds after the first send (longer by the pacer's waits) is filtered.
/// Every socket is non-blocking, and every knock ends by its deadline, so the loop ends.
enum KnockLoop {
    struct Job: Sendable {
        var target: ProbeTarget
        var host: String
        /// How long to listen after the first send.
        var window: Double
        var every: Double
        var sends: Int
        var key: KnockKey?
        var source: String?
        var pacer: KnockPacer

        init(
            target: ProbeTarget, host: String, window: Double, every: Double, sends: Int, key: KnockKey?, source: String?,
            pacer: KnockPacer
        ) {
            self.target = target
            self.host = host
            self.window = window
            self.every = every
            self.sends = max(1, sends)
            self.key = key
            self.source = source
            self.pacer = pacer
        }

        /// A probe's knock: three sends within `timeout`.
        init(target: ProbeTarget, host: String, timeout: Double, key: KnockKey?, source: String?, pacer: KnockPacer) {
            self.init(target: target, host: host, window: timeout, every: timeout / 3, sends: 3, key: key, source: source, pacer: pacer)
        }
    }

    /// One knock in flight.
    private struct Flight {
        let job: Int
        let descriptor: Int32
        let request: Knock.Request
        let bytes: [UInt8]
        let started: Double
        var sends = 0
        /// When the next send may go.
        var nextSend: Double
        /// The pacer's wait, once a token is reserved for the next send.
        var reserved: Double?
        var deadline: Double
    }

    /// The results in the order of `jobs`, with at most `window` knocks in flight; `done` is
    /// called after each with the number done so far.
    static func run(_ jobs: [Job], window: Int, done: (Int) -> Void = { _ in }) -> [ProbeResult] {
        var results = [ProbeResult?](repeating: nil, count: jobs.count)
        var flights: [Flight] = []
        var next = 0
        var finished = 0
        var resolved: [String: [UInt8]] = [:]
        var buffer = [UInt8](repeating: 0, count: 512)

        func end(_ job: Int, _ verdict: ProbeResult.Verdict, _ detail: String, started: Double) {
            results[job] = ProbeResult(target: jobs[job].target, verdict: verdict, detail: detail, seconds: monotonic() - started)
            finished += 1
            done(finished)
        }

        func start(_ index: Int) {
            let job = jobs[index]
            let started = monotonic()
            let address: [UInt8]
            if let known = resolved[job.host] {
                address = known
            } else if let first = ProbeSocket.resolve(job.host, port: 0, transport: .udp).first {
                address = Array(first)
                resolved[job.host] = address
            } else {
                return end(index, .error, "cannot resolve \(job.host)", started: started)
            }
            switch open(address, port: job.target.port, source: job.source) {
            case .failure(let reason):
                end(index, .error, reason, started: started)
            case .success(let descriptor):
                let request = Knock.Request.random(port: UInt16(job.target.port))
                flights.append(
                    Flight(
                        job: index, descriptor: descriptor, request: request, bytes: request.bytes, started: started,
                        nextSend: started, deadline: started + job.window))
            }
        }

        // Bounded: each pass either starts knocks, sends, ends one, or waits in poll until the
        // next of them is due; every knock ends by its deadline.
        for _ in 0..<50_000_000 {
            while flights.count < max(1, window), next < jobs.count {
                start(next)
                next += 1
            }
            if flights.isEmpty {
                if next < jobs.count { continue }
                break
            }
            var ended = Set<Int>()
            var now = monotonic()
            for index in flights.indices where flights[index].sends < jobs[flights[index].job].sends && now >= flights[index].nextSend {
                send(&flights[index], jobs[flights[index].job], now: &now)
            }
            for (index, flight) in flights.enumerated() where now >= flight.deadline {
                let window = jobs[flight.job].window
                end(flight.job, .filtered, "filtered or no responder: silence for \(ProbeCheck.format(window))s", started: flight.started)
                ended.insert(index)
            }
            let wake =
                flights.enumerated().filter { !ended.contains($0.offset) }.map {
                    $0.element.sends < jobs[$0.element.job].sends ? min($0.element.nextSend, $0.element.deadline) : $0.element.deadline
                }.min() ?? now
            var polled = flights.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            // Rounded up: waking a moment early would only pass once more.
            let milliseconds = ended.isEmpty ? Int32(max(0, min(1000, ((wake - now) * 1000).rounded(.up)))) : 0
            if poll(&polled, nfds_t(polled.count), milliseconds) > 0 {
                for (index, entry) in polled.enumerated() where entry.revents != 0 && !ended.contains(index) {
                    let flight = flights[index]
                    let got = recv(flight.descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                    guard let (verdict, detail) = answer(got, errno: errno, buffer: buffer, flight: flight, key: jobs[flight.job].key)
                    else { continue }
                    end(flight.job, verdict, detail, started: flight.started)
                    ended.insert(index)
                }
            }
            for index in ended.sorted(by: >) { close(flights.remove(at: index).descriptor) }
        }
        for flight in flights {
            close(flight.descriptor)
            end(flight.job, .error, "the knock loop stopped before this knock ended", started: flight.started)
        }
        return results.enumerated().map {
            $0.element ?? ProbeResult(target: jobs[$0.offset].target, verdict: .error, detail: "not knocked", seconds: 0)
        }
    }

    /// Sends the knock when the pacer lets it go: a token is reserved first, and when the pacer
    /// makes it wait, the send is put off by that wait and the deadline moves with it.
    private static func send(_ flight: inout Flight, _ job: Job, now: inout Double) {
        if flight.reserved == nil {
            let wait = job.pacer.reserve()
            flight.reserved = wait
            if wait > 0 {
                flight.nextSend = now + wait
                flight.deadline = flight.sends == 0 ? now + wait + job.window : flight.deadline + wait
                return
            }
        }
        _ = flight.bytes.withUnsafeBytes { Glibc.send(flight.descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        flight.sends += 1
        now = monotonic()
        if flight.sends == 1 { flight.deadline = now + job.window }
        flight.nextSend = now + job.every
        flight.reserved = nil
    }

    /// What a read says: nil when it says nothing yet (EAGAIN, EINTR).
    private static func answer(_ got: Int, errno code: Int32, buffer: [UInt8], flight: Flight, key: KnockKey?) -> (
        ProbeResult.Verdict, String
    )? {
        if got < 0 { return code == ECONNREFUSED ? (.closed, "ICMP port unreachable") : nil }
        guard let key else { return (.ok, "open: a \(got)-byte reply (no --key to check it is streamd)") }
        if Knock.verify(reply: Array(buffer[0..<got]), for: flight.request, key: key.key) { return (.ok, "open (streamd)") }
        return (.openWrongProtocol, "a reply that is not streamd's knock (wrong key, or another server)")
    }

    private enum Opened {
        case success(Int32)
        case failure(String)
    }

    /// A non-blocking UDP socket connected to `address` with `port`, bound to `source` when given.
    private static func open(_ address: [UInt8], port: Int, source: String?) -> Opened {
        var address = address
        // sin_port and sin6_port are both the two bytes after the family, in network order.
        address[2] = UInt8(port >> 8)
        address[3] = UInt8(port & 0xFF)
        let family = address.withUnsafeBytes { Int32($0.load(as: sa_family_t.self)) }
        let descriptor = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { return .failure(String(cString: strerror(errno))) }
        if let source, let error = ProbeSocket.bindSource(descriptor, source, family: family) {
            close(descriptor)
            return .failure(error)
        }
        let connected = address.withUnsafeBytes {
            Glibc.connect(descriptor, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            return .failure(reason)
        }
        return .success(descriptor)
    }
}
