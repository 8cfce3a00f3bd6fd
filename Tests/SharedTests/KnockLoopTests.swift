import Crypto
import Foundation
import TestSupport
import XCTest

@testable import KnockAuth
@testable import PortModel
@testable import PortProbe
@testable import StreamWire

#if canImport(Glibc)
    import Glibc
#endif

/// The knock loop (issue 16): every UDP knock of a probe on one thread, with the verdicts of the
/// knock it replaced, against UDP sockets this test binds on loopback.
final class KnockLoopTests: XCTestCase {
    let key = KnockKey(SymmetricKey(data: Array("knock-loop-test-key".utf8)))

    /// A UDP socket on 127.0.0.1 that never answers: its port reads as filtered.
    func silentPort() -> (descriptor: Int32, port: Int) { boundLoopbackSocket(SOCK_DGRAM) }

    /// A UDP responder on loopback: answers each datagram with what `reply` makes of it.
    func responder(_ reply: @escaping @Sendable ([UInt8]) -> [UInt8]) -> Int {
        let (descriptor, port) = silentPort()
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 2048)
            var peer = sockaddr_storage()
            for _ in 0..<100 {
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let got = withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(descriptor, &buffer, buffer.count, 0, $0, &length) }
                }
                guard got > 0 else { return }
                let answer = reply(Array(buffer[0..<got]))
                _ = withUnsafePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(descriptor, answer, answer.count, 0, $0, length) }
                }
            }
        }
        addTeardownBlock { close(descriptor) }
        return port
    }

    func job(_ port: Int, timeout: Double = 0.3, key: KnockKey? = nil, pacer: KnockPacer = KnockPacer()) -> KnockLoop.Job {
        KnockLoop.Job(
            target: ProbeTarget(transport: .udp, port: port, service: .rtp, labels: [], range: ""), host: "127.0.0.1", timeout: timeout,
            key: key, source: nil, pacer: pacer)
    }

    func testEachVerdictOfTheKnockInOneRun() {
        let key = self.key
        let streamd = responder { Knock.Request(bytes: $0).map { Knock.reply(to: $0, key: key.key) } ?? [] }
        let other = responder { _ in Array("hello".utf8) }
        let (silent, silentPort) = silentPort()
        defer { close(silent) }
        // A port nothing is bound to: loopback answers with ICMP port unreachable.
        let closed = freeLoopbackPort()
        let results = KnockLoop.run(
            [job(streamd, key: key), job(other, key: key), job(silentPort, key: key), job(closed, key: key)], window: 8)
        XCTAssertEqual(results.map(\.verdict), [.ok, .openWrongProtocol, .filtered, .closed])
        XCTAssertEqual(
            results.map(\.detail),
            [
                "open (streamd)", "a reply that is not streamd's knock (wrong key, or another server)",
                "filtered or no responder: silence for 0.3s", "ICMP port unreachable",
            ])
        XCTAssertEqual(results.map(\.target.port), [streamd, other, silentPort, closed], "results in the order of the jobs")
        XCTAssertGreaterThanOrEqual(results[2].seconds, 0.3, "silence is the whole timeout")
        XCTAssertLessThan(results[0].seconds, 0.3, "an answer ends the knock at once")
        let unkeyed = KnockLoop.run([job(other)], window: 1)
        XCTAssertEqual(unkeyed.map(\.detail), ["open: a 5-byte reply (no --key to check it is streamd)"])
    }

    func testHundredsOfKnocksTakeOneTimeoutOnOneThreadWithinTheWindow() {
        let ports = (0..<300).map { _ in silentPort() }
        defer { for port in ports { close(port.descriptor) } }
        let sampler = ProbeTests.ProcessSampler()
        sampler.start()
        let started = Date()
        var finished: [Int] = []
        let results = KnockLoop.run(ports.map { job($0.port) }, window: 1000) { finished.append($0) }
        let seconds = Date().timeIntervalSince(started)
        let seen = sampler.stop()
        XCTAssertEqual(results.map(\.verdict), Array(repeating: .filtered, count: 300))
        XCTAssertEqual(finished, Array(1...300), "progress after every knock")
        XCTAssertLessThan(seconds, 1.5, "300 knocks of 0.3 s at once, not one after another (90 s)")
        XCTAssertLessThanOrEqual(seen.threads, 1, "the loop runs on the caller's thread: the one new thread is the sampler's")

        // With a window of 10, at most 10 sockets are open at once.
        let narrow = ProbeTests.ProcessSampler()
        narrow.start()
        let windowed = KnockLoop.run(ports.prefix(40).map { job($0.port, timeout: 0.05) }, window: 10)
        let held = narrow.stop()
        XCTAssertEqual(windowed.count, 40)
        XCTAssertLessThanOrEqual(held.descriptors, 10 + 1, "sockets in flight (the sampler reads /proc/self/fd with one more)")
    }

    func testThePacerGatesEverySendAndMovesTheDeadline() {
        // One token at once, then 20 a second: 3 knocks of 3 sends are 9 tokens over 0.4 s.
        let pacer = KnockPacer(rate: 20, burst: 1)
        let ports = (0..<3).map { _ in silentPort() }
        defer { for port in ports { close(port.descriptor) } }
        let started = Date()
        let results = KnockLoop.run(ports.map { job($0.port, timeout: 0.15, pacer: pacer) }, window: 8)
        XCTAssertEqual(results.map(\.verdict), [.filtered, .filtered, .filtered])
        XCTAssertEqual(pacer.reserved, 9, "every knock sent three times, each send with a token")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.4, "the sends waited for their tokens")
    }

    func testAHostThatDoesNotResolveIsAnErrorAndTheRestGoOn() {
        let (silent, port) = silentPort()
        defer { close(silent) }
        var bad = job(port)
        bad.host = "no-such-host.invalid"
        let results = KnockLoop.run([bad, job(port, timeout: 0.05)], window: 4)
        XCTAssertEqual(results.map(\.verdict), [.error, .filtered])
        XCTAssertEqual(results[0].detail, "cannot resolve no-such-host.invalid")
    }

    func testAWideProbeRaisesTheOpenFileLimitItNeeds() {
        var saved = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved), 0)
        guard saved.rlim_max >= 1024 else { return XCTFail("the hard limit on open files is \(saved.rlim_max): too low for this test") }
        defer { _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved) }
        let ports = (0..<300).map { _ in silentPort() }
        defer { for port in ports { close(port.descriptor) } }
        var low = saved
        low.rlim_cur = 200
        XCTAssertEqual(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &low), 0)
        var prober = Prober(host: "127.0.0.1")
        prober.timeout = 0.1
        prober.concurrency = 600
        let results = prober.run(ports.map { ProbeTarget(transport: .udp, port: $0.port, service: .rtp, labels: [], range: "") })
        XCTAssertEqual(results.filter { $0.verdict != .filtered }.map(\.detail), [], "no check ran out of descriptors")
        var raised = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised), 0)
        XCTAssertEqual(raised.rlim_cur, min(saved.rlim_max, 600 + 64))
    }

    func testTheProberRunsTCPChecksAndKnocksTogetherWithinItsConcurrency() throws {
        let (silent, udp) = silentPort()
        defer { close(silent) }
        var prober = Prober(host: "127.0.0.1")
        prober.timeout = 0.3
        prober.concurrency = 2
        let closedTCP = freeLoopbackPort()
        let targets = [
            ProbeTarget(transport: .tcp, port: closedTCP, service: .http, labels: [], range: ""),
            ProbeTarget(transport: .udp, port: udp, service: .rtp, labels: [], range: ""),
        ]
        let started = Date()
        let results = prober.run(targets)
        XCTAssertEqual(results.map(\.verdict), [.closed, .filtered])
        XCTAssertEqual(results.map(\.target.port), [closedTCP, udp])
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.5)
    }
}
