import Foundation
import TestSupport
import XCTest

@testable import CommandSupport
@testable import FirewallState
@testable import HostInspection
@testable import KnockAuth
@testable import PlanRendering
@testable import PortModel
@testable import PortPlanning
@testable import PortProbe
@testable import PortProfiles
@testable import StreamWire

#if canImport(Glibc)
    import Glibc
#endif

/// A clock that moves only when a test (or the pacer's sleep) moves it.
final class FakeClock: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds = 0.0

    var now: Double {
        lock.lock()
        defer { lock.unlock() }
        return seconds
    }

    func advance(_ by: Double) {
        lock.lock()
        seconds += by
        lock.unlock()
    }
}

/// The knock pacer (issue 11, item 14) and the paced ICMP retries (item 7), on injected clocks:
/// no test here depends on how fast the machine is.
final class KnockPacingTests: XCTestCase {
    func pacer(_ clock: FakeClock) -> KnockPacer {
        KnockPacer(clock: { clock.now }, sleep: { clock.advance($0) })
    }

    func testTheFirstKnocksGoAtOnceThenAtTheRate() {
        let clock = FakeClock()
        let pacer = pacer(clock)
        let burst = Int(KnockPacer.defaultBurst)
        let interval = 1 / KnockPacer.defaultRate
        let waits = (0..<(burst + 3)).map { _ in pacer.reserve() }
        XCTAssertEqual(waits.prefix(burst).filter { $0 == 0 }.count, burst, "a burst at once")
        XCTAssertEqual(waits[burst], interval, accuracy: 1e-9, "then one every 1/rate s, in the order asked")
        XCTAssertEqual(waits[burst + 1], 2 * interval, accuracy: 1e-9)
        XCTAssertEqual(waits[burst + 2], 3 * interval, accuracy: 1e-9)
        XCTAssertEqual(pacer.reserved, burst + 3)
    }

    /// Whatever the pattern of knocks, streamd's own limiter (the real type, with its defaults)
    /// lets every paced one through; unpaced, the same knocks are refused.
    func testStreamdsRateLimitNeverRefusesAPacedKnock() {
        let clock = FakeClock()
        let pacer = pacer(clock)
        var limiter = KnockRateLimiter()
        var generator = SeededRandom(seed: 11)
        var refused = 0
        var sent = 0
        for round in 0..<200 {
            // Bursts of up to 800 checks at once, each with its first knock and up to two resends,
            // and idle gaps now and then.
            let checks = Int(generator.next() % 800) + 1
            for _ in 0..<(checks * 3) {
                pacer.acquire()
                sent += 1
                if !limiter.allow("192.0.2.2", now: clock.now) { refused += 1 }
            }
            if round % 7 == 0 { clock.advance(Double(generator.next() % 3000) / 1000) }
        }
        XCTAssertGreaterThan(sent, 100_000)
        XCTAssertEqual(refused, 0)

        var unpaced = KnockRateLimiter()
        let burst = Int(unpaced.burst)
        let dropped = (0..<(burst + 1000)).filter { _ in !unpaced.allow("192.0.2.2", now: 0) }.count
        XCTAssertEqual(dropped, 1000, "the same limiter refuses knocks that come faster than it allows")
    }

    /// A UDP port that takes knocks and never answers gets three of them, each paced.
    func testResendsArePacedToo() throws {
        let (silent, port) = boundLoopbackSocket(SOCK_DGRAM)
        defer { close(silent) }
        let clock = FakeClock()
        var prober = Prober(host: "127.0.0.1")
        prober.timeout = 0.3
        prober.pacer = pacer(clock)
        let results = prober.run([ProbeTarget(transport: .udp, port: port, service: .rtp, labels: [], range: "")])
        XCTAssertEqual(results.map(\.verdict), [.filtered])
        XCTAssertEqual(prober.pacer.reserved, 3, "the knock and its two resends each took a token")
    }

    // MARK: paced ICMP retries

    /// A host as Linux limits ICMP to one destination: a bucket of 6 unreachables that refills at
    /// one a second. A knock on a closed port gets one when the bucket has one; when it has none
    /// the knock costs the bucket nothing. Filtered ports never answer.
    final class RateLimitedHost: @unchecked Sendable {
        let clock = FakeClock()
        var tokens = 0.0
        var last = 0.0
        let closed: Set<Int>
        var knocked: [Int] = []

        init(closed: Set<Int>) { self.closed = closed }

        /// A knock every `ICMPRetry.every` seconds for `window`, as the prober sends them.
        func knock(_ target: ProbeTarget, _ window: Double) -> (ProbeResult.Verdict, String)? {
            knocked.append(target.port)
            let start = clock.now
            var offset = 0.0
            while offset < window {
                let now = start + offset
                tokens = min(6, tokens + (now - last))
                last = now
                if closed.contains(target.port), tokens >= 1 {
                    tokens -= 1
                    clock.advance(offset + 0.001)
                    return (.closed, "ICMP port unreachable")
                }
                offset += ICMPRetry.every
            }
            clock.advance(window)
            return nil
        }
    }

    /// The first pass over 6970-6999 on a host with nothing listening: 8 closed, 22 silent.
    func firstPass(filtered: Set<Int> = []) -> [ProbeResult] {
        (6970...6999).map { port in
            let target = ProbeTarget(transport: .udp, port: port, service: .rtp, labels: ["--ports"], range: "6970-6999/udp")
            return port < 6978 && !filtered.contains(port)
                ? ProbeResult(target: target, verdict: .closed, detail: "ICMP port unreachable", seconds: 0.01)
                : ProbeResult(target: target, verdict: .filtered, detail: "filtered or no responder: silence for 2s", seconds: 2)
        }
    }

    func testSilentPortsOfAHostThatSendsICMPAreRetriedUntilTheyAnswer() {
        let host = RateLimitedHost(closed: Set(6970...6999))
        let results = ICMPRetry(budget: 30, clock: { host.clock.now }).run(firstPass(), knock: host.knock)
        XCTAssertEqual(results.filter { $0.verdict == .closed }.count, 30, "\(results.map(\.verdict))")
        XCTAssertEqual(host.knocked, Array(6978...6999), "one port at a time, in order")
        XCTAssertLessThanOrEqual(host.clock.now, 23, "about a second each: the host's own pace")
        XCTAssertEqual(results[10].detail, "ICMP port unreachable (on a paced retry)")
    }

    func testWhenTheBudgetRunsOutTheRestIsClosedOrFilteredNeverFiltered() {
        let host = RateLimitedHost(closed: Set(6970...6999))
        let results = ICMPRetry(budget: 10, clock: { host.clock.now }).run(firstPass(), knock: host.knock)
        let closed = results.filter { $0.verdict == .closed }.count
        XCTAssertGreaterThan(closed, 8)
        XCTAssertLessThan(closed, 30)
        XCTAssertEqual(results.filter { $0.verdict == .filtered }.count, 0)
        let rest = results.filter { $0.verdict != .closed }
        XCTAssertEqual(rest.count, 30 - closed)
        XCTAssertTrue(rest.allSatisfy { $0.verdict == .closedOrFiltered })
        XCTAssertEqual(
            rest.first?.detail, "no reply; this host rate-limits ICMP (\(closed) of 30 closed), so it may be closed rather than filtered")
        XCTAssertLessThanOrEqual(host.clock.now, 10, "within the budget")
        XCTAssertFalse(ProbeReport.passed(rest), "closed-or-filtered is not ok")
    }

    func testNoBudgetRetriesNothingButStillDoesNotSayFiltered() {
        let host = RateLimitedHost(closed: Set(6970...6999))
        let results = ICMPRetry(budget: 0, clock: { host.clock.now }).run(firstPass(), knock: host.knock)
        XCTAssertEqual(host.knocked, [])
        XCTAssertEqual(results.filter { $0.verdict == .closedOrFiltered }.count, 22)
        XCTAssertEqual(
            results[29].detail, "no reply; this host rate-limits ICMP (8 of 30 closed), so it may be closed rather than filtered")
    }

    func testAPortThatStaysSilentOnItsRetryIsFiltered() {
        // 6990 is dropped by a firewall; the others are closed.
        let host = RateLimitedHost(closed: Set(6970...6999).subtracting([6990]))
        let results = ICMPRetry(budget: 60, clock: { host.clock.now }).run(firstPass(), knock: host.knock)
        XCTAssertEqual(results.filter { $0.verdict == .closed }.count, 29)
        XCTAssertEqual(results[20].verdict, .filtered)
        XCTAssertEqual(
            results[20].detail,
            "filtered or no responder: silence for 2s, and again on a paced retry (this host sends ICMP unreachable for other ports)")
    }

    func testAHostThatSentNoICMPKeepsFiltered() {
        let host = RateLimitedHost(closed: [])
        let silent = firstPass(filtered: Set(6970...6999))
        let results = ICMPRetry(budget: 30, clock: { host.clock.now }).run(silent, knock: host.knock)
        XCTAssertEqual(host.knocked, [], "no ICMP from the host: nothing to pace to")
        XCTAssertEqual(results.map(\.verdict), Array(repeating: .filtered, count: 30))
        XCTAssertEqual(results.map(\.detail), silent.map(\.detail))
    }
}
