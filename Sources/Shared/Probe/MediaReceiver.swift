import FoundationEssentials
import StreamWire

#if canImport(Glibc)
    import Glibc
#endif

/// Receives for every session of every media check at once, in one poll loop over all their
/// sockets, so hundreds of sessions cost one thread; then tears them all down with one short wait.
enum MediaReceiver {
    /// Seconds between the receiver reports a UDP session sends, as players send them.
    static let reportEvery = 1.0

    /// One socket the receive loop watches: a session's media socket, or the control connection
    /// of a UDP session (watched for the server hanging up).
    struct Watch {
        let session: Int
        let control: Bool
    }

    /// Receives on every session's media socket for `seconds`; UDP sessions send an RTCP
    /// receiver report every second, and their control connections are watched.
    static func receive(_ sessions: [MediaSession], for seconds: Double) {
        guard !sessions.isEmpty else { return }
        var watches: [Watch] = []
        var pollers: [pollfd] = []
        for (index, session) in sessions.enumerated() {
            watches.append(Watch(session: index, control: false))
            pollers.append(pollfd(fd: session.mediaDescriptor, events: Int16(POLLIN), revents: 0))
            if session.check.transport == .udp, let control = session.rtsp.control {
                watches.append(Watch(session: index, control: true))
                pollers.append(pollfd(fd: control.descriptor, events: Int16(POLLIN), revents: 0))
            }
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        // What queued while the other sessions were set up arrives all at once: count it, but
        // measure timing only from the packets that follow.
        drain(sessions, watches, &pollers, &buffer, everything: true)
        for session in sessions { session.stats.restartTiming() }
        let started = monotonic()
        let end = started + seconds
        var nextReport = started + reportEvery
        for _ in 0..<10_000_000 {
            let now = monotonic()
            if now >= nextReport {
                for session in sessions where session.lost == nil { session.pair?.sendReceiverReport() }
                nextReport += reportEvery
            }
            let left = end - now
            guard left > 0 else { break }
            let wait = min(left, nextReport - now, 0.5)
            guard poll(&pollers, nfds_t(pollers.count), Int32(max(1, wait * 1000))) > 0 else { continue }
            drain(sessions, watches, &pollers, &buffer)
        }
    }

    /// Reads what is ready on every socket poll marked (or on all, `everything`), stamped with one arrival time.
    private static func drain(
        _ sessions: [MediaSession], _ watches: [Watch], _ pollers: inout [pollfd], _ buffer: inout [UInt8], everything: Bool = false
    ) {
        let now = monotonic()
        for index in pollers.indices where pollers[index].fd >= 0 && (everything || pollers[index].revents != 0) {
            let session = sessions[watches[index].session]
            if pollers[index].revents & Int16(POLLNVAL) != 0 {
                pollers[index].fd = -1
                continue
            }
            let stream = session.check.transport != .udp || watches[index].control
            // Drain what is queued, bounded, so one busy socket cannot starve the others.
            for _ in 0..<64 {
                let got = recv(pollers[index].fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if got < 0 {
                    let code = errno
                    if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { break }
                    // An ICMP error on a UDP media socket is reported once; keep listening.
                    if !stream { break }
                    session.lost = code == ECONNRESET ? "reset" : "closed"
                    pollers[index].fd = -1
                    break
                }
                if !stream {
                    session.stats.count(Array(buffer[0..<got]), at: now)
                    continue
                }
                if got == 0 {
                    session.lost = "closed"
                    pollers[index].fd = -1
                    break
                }
                session.rtsp.pending += buffer[0..<got]
                session.rtsp.consumeFrames(now: now)
                if session.rtsp.pending.count > 1 << 20 { session.rtsp.pending.removeAll() }
            }
        }
    }

    /// After the receive window: tears every session down and closes its sockets. TEARDOWN is
    /// best effort: one `wait` for every reply at once, and neither a missing reply nor a hang-up
    /// changes a verdict. streamd's reply says what it received from a UDP player in all.
    static func finish(_ sessions: [MediaSession], wait: Double) {
        let tearing = sessions.filter { $0.lost == nil && $0.rtsp.control != nil && $0.rtsp.send("TEARDOWN", $0.baseURL, []) }
        collect(tearing, wait: wait) { session, reply in session.serverReceived = reply.received }
        for session in sessions { session.close() }
    }

    /// Waits at most `wait` seconds for one reply on each session's control connection, in one
    /// poll loop, and hands each reply to `handle`; a session that hangs up is simply done.
    private static func collect(_ sessions: [MediaSession], wait: Double, handle: (MediaSession, RTSPReply) -> Void) {
        guard !sessions.isEmpty else { return }
        var pollers = sessions.map { pollfd(fd: $0.rtsp.control?.descriptor ?? -1, events: Int16(POLLIN), revents: 0) }
        var waiting = sessions.count
        var buffer = [UInt8](repeating: 0, count: 8192)
        let end = monotonic() + wait
        for _ in 0..<100_000 where waiting > 0 {
            let left = end - monotonic()
            guard left > 0 else { return }
            guard poll(&pollers, nfds_t(pollers.count), Int32(max(1, left * 1000))) > 0 else { continue }
            for index in pollers.indices where pollers[index].fd >= 0 && pollers[index].revents != 0 {
                let session = sessions[index]
                let got = recv(pollers[index].fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if got < 0, errno == EAGAIN || errno == EINTR { continue }
                if got > 0, session.rtsp.pending.count < 1 << 20 {
                    session.rtsp.pending += buffer[0..<got]
                    switch session.rtsp.takeReply(protocol: "RTSP/") {
                    case nil: continue
                    case .reply(let reply)?: handle(session, reply)
                    default: break
                    }
                }
                pollers[index].fd = -1
                waiting -= 1
            }
        }
    }
}
