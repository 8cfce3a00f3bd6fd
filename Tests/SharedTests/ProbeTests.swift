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

/// The probe against servers this test runs on loopback: well-behaved, silent, endless, and wrong.
final class ProbeTests: XCTestCase {
    /// A TCP server on 127.0.0.1 that answers each connection with `behaviour`; returns its port.
    func server(_ behaviour: @escaping @Sendable (Int32) -> Void) throws -> Int {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(listener, 16)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        Thread.detachNewThread {
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                Thread.detachNewThread {
                    behaviour(client)
                    close(client)
                }
            }
        }
        addTeardownBlock {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
        return Int(UInt16(bigEndian: bound.sin_port))
    }

    func probe(_ port: Int, _ service: Service, timeout: Double = 0.5) -> ProbeResult {
        var prober = Prober(host: "127.0.0.1")
        prober.timeout = timeout
        let target = ProbeTarget(transport: .tcp, port: port, service: service, labels: ["test"], range: "\(port)/tcp")
        return prober.run([target])[0]
    }

    func reply(_ text: String) -> @Sendable (Int32) -> Void { replies([text]) }

    /// A server that reads a request and sends the next of `texts`, once for each.
    func replies(_ texts: [String]) -> @Sendable (Int32) -> Void {
        { client in
            var buffer = [UInt8](repeating: 0, count: 4096)
            for text in texts {
                _ = recv(client, &buffer, buffer.count, 0)
                _ = text.withCString { send(client, $0, strlen($0), 0) }
            }
        }
    }

    func testAWellBehavedRTSPServerIsOK() throws {
        let port = try server(reply("RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS\r\n\r\n"))
        let result = probe(port, .rtsp)
        XCTAssertEqual(result.verdict, .ok)
        XCTAssertEqual(result.detail, "RTSP/1.0 200 OK")
    }

    func testDescribeWhenAPathIsGiven() throws {
        let port = try server(
            replies([
                "RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n",
                "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n",
            ]))
        var prober = Prober(host: "127.0.0.1")
        prober.timeout = 0.5
        prober.rtspPath = "/live/test"
        let result = prober.run([ProbeTarget(transport: .tcp, port: port, service: .rtsp, labels: [], range: "")])[0]
        XCTAssertEqual(result.verdict, .ok)
        XCTAssertEqual(result.detail, "RTSP/1.0 200 OK; DESCRIBE /live/test: SDP")
        let missing = try server(replies(["RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n", "RTSP/1.0 404 Not Found\r\nCSeq: 2\r\n\r\n"]))
        let absent = prober.run([ProbeTarget(transport: .tcp, port: missing, service: .rtsp, labels: [], range: "")])[0]
        XCTAssertEqual(absent.verdict, .openWrongProtocol)
        XCTAssertEqual(absent.detail, "RTSP answers OPTIONS, but DESCRIBE /live/test got RTSP/1.0 404 Not Found")
    }

    func testHTTPOnTheRTSPPortIsOpenWrongProtocol() throws {
        let port = try server(reply("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n"))
        let result = probe(port, .rtsp)
        XCTAssertEqual(result.verdict, .openWrongProtocol)
        XCTAssertEqual(result.detail, "expected RTSP, got HTTP (HTTP/1.1 400 Bad Request)")
    }

    func testASilentServerCostsOneTimeout() throws {
        let port = try server { _ in usleep(3_000_000) }
        let started = Date()
        let result = probe(port, .rtsp, timeout: 0.5)
        XCTAssertEqual(result.verdict, .openWrongProtocol)
        XCTAssertEqual(result.detail, "open, but nothing answered within 0.5s")
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.5, "bounded by the timeout")
    }

    func testAnEndlessServerIsCutOffInTimeAndMemory() throws {
        let port = try server { client in
            let junk = [UInt8](repeating: 0x41, count: 65536)
            for _ in 0..<2000 { if send(client, junk, junk.count, Int32(MSG_NOSIGNAL)) < 0 { return } }
        }
        let started = Date()
        let result = probe(port, .http, timeout: 0.5)
        XCTAssertEqual(result.verdict, .openWrongProtocol)
        XCTAssertTrue(result.detail.hasPrefix("expected HTTP, got 'AAAA"), result.detail)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.5)
        let rtmp = probe(port, .rtmp, timeout: 0.5)
        XCTAssertEqual(rtmp.verdict, .openWrongProtocol, "1537 bytes of 'A' are not S0 version 3")
    }

    func testClosedAndRTMPAndICY() throws {
        XCTAssertEqual(probe(freeLoopbackPort(), .rtsp).verdict, .closed)

        let rtmp = try server { client in
            var buffer = [UInt8](repeating: 0, count: 1537)
            _ = recv(client, &buffer, buffer.count, Int32(MSG_WAITALL))
            let reply = [UInt8(3)] + [UInt8](repeating: 0, count: 3072)
            _ = send(client, reply, reply.count, 0)
        }
        XCTAssertEqual(probe(rtmp, .rtmp).verdict, .ok)
        let icy = try server(reply("ICY 200 OK\r\nicy-name: x\r\n\r\n"))
        XCTAssertEqual(probe(icy, .icy).verdict, .ok)
        let plainHTTP = try server(reply("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n"))
        XCTAssertEqual(probe(plainHTTP, .icy).verdict, .openWrongProtocol)
        XCTAssertEqual(probe(plainHTTP, .rtspHTTP).detail, "an HTTP server without the RTSP tunnel: HTTP/1.0 200 OK")
    }

    func testChecksRunInParallel() throws {
        let port = try server { _ in usleep(1_500_000) }
        var prober = Prober(host: "127.0.0.1")
        prober.timeout = 0.5
        let targets = (0..<20).map { _ in ProbeTarget(transport: .tcp, port: port, service: .rtsp, labels: [], range: "") }
        let started = Date()
        let results = prober.run(targets)
        XCTAssertEqual(results.count, 20)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.5, "20 checks of 0.5 s take about one timeout, not ten seconds")
    }

    /// A server that accepts and resets at once (SO_LINGER 0): "reset", not "nothing answered" (item 12b).
    func testAnImmediateResetIsReportedAsReset() throws {
        let port = try server { client in
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        for service in [Service.rtsp, .http, .rtmp] {
            let result = probe(port, service)
            XCTAssertEqual(result.verdict, .openWrongProtocol, "\(service)")
            XCTAssertEqual(result.detail, "open, but the connection was reset before any answer", "\(service)")
        }
    }

    func testACleanCloseWithoutAnAnswerIsReportedAsSuch() throws {
        let port = try server { client in
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = recv(client, &buffer, buffer.count, 0)
            shutdown(client, Int32(SHUT_WR))
            usleep(300_000)
        }
        let result = probe(port, .rtsp, timeout: 2)
        XCTAssertEqual(result.verdict, .openWrongProtocol)
        XCTAssertEqual(result.detail, "open, but closed without answering")
        XCTAssertLessThan(result.seconds, 1.5, "a close is an answer: no need to wait for the timeout")
    }

    /// Threads started and sockets open while a wide range is probed, read from /proc/self.
    final class ProcessSampler: @unchecked Sendable {
        private let lock = NSLock()
        private var running = true
        private(set) var newThreads = Set<String>()
        private(set) var mostDescriptors = 0
        private let baselineThreads: Set<String>
        private let baselineDescriptors: Int

        init() {
            baselineThreads = Self.threads()
            baselineDescriptors = Self.descriptors()
        }

        static func threads() -> Set<String> { Set((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []) }
        static func descriptors() -> Int { ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count }

        func start() {
            Thread.detachNewThread { [self] in
                for _ in 0..<200_000 {
                    let threads = Self.threads().subtracting(baselineThreads)
                    let descriptors = Self.descriptors() - baselineDescriptors
                    lock.lock()
                    newThreads.formUnion(threads)
                    mostDescriptors = max(mostDescriptors, descriptors)
                    let go = running
                    lock.unlock()
                    if !go { return }
                    usleep(500)
                }
            }
        }

        func stop() -> (threads: Int, descriptors: Int) {
            lock.lock()
            defer { lock.unlock() }
            running = false
            return (newThreads.count, mostDescriptors)
        }
    }

    func testAWideRangeRunsOnAFixedPoolOfThreadsAndSockets() throws {
        // --full over 2,000 UDP ports and 2,000 TCP ports of loopback: refused or ICMP at once.
        let targets = Prober.targets(
            ports: [try PortSpec(parsing: "40000-41999/udp"), try PortSpec(parsing: "40000-41999/tcp")], full: true)
        XCTAssertEqual(targets.count, 4000)
        var prober = Prober(host: "127.0.0.1")
        prober.timeout = 0.5
        prober.concurrency = 8
        // Loopback sends ICMP without a limit: the knocks need no pacing here.
        prober.pacer = KnockPacer(rate: 1_000_000, burst: 1_000_000)
        let sampler = ProcessSampler()
        sampler.start()
        let results = prober.run(targets)
        let seen = sampler.stop()
        XCTAssertEqual(results.count, 4000)
        XCTAssertEqual(results.filter { $0.verdict == .error }.count, 0)
        // The sampler's own thread started before the baseline; the slack is for the runtime's.
        XCTAssertGreaterThan(seen.threads, 0, "the checks run on threads of the prober's own")
        XCTAssertLessThanOrEqual(seen.threads, 8 + 2, "threads started during the probe")
        XCTAssertLessThanOrEqual(seen.descriptors, 8 + 2, "sockets open at once (the sampler reads /proc/self/fd with one more)")
    }

    /// A check that hangs in a way nobody foresaw (here the TLS check) ends at its deadline as an
    /// error, and the probe returns with a result for every check (item 4).
    func testACheckThatHangsEndsAtItsDeadlineAsAnError() throws {
        let port = try server { _ in usleep(1_000_000) }
        var prober = Prober(host: "127.0.0.1")
        prober.timeout = 0.2
        prober.tls = { _, _, _, _ in
            usleep(8_000_000)
            return (.ok, "never seen")
        }
        let targets = [
            ProbeTarget(transport: .tcp, port: port, service: .https, labels: [], range: ""),
            ProbeTarget(transport: .tcp, port: freeLoopbackPort(), service: .http, labels: [], range: ""),
        ]
        let started = Date()
        let results = prober.run(targets)
        XCTAssertLessThan(Date().timeIntervalSince(started), 4.5)
        XCTAssertEqual(results.count, 2)
        XCTAssertEqual(results[0].verdict, .error)
        XCTAssertEqual(results[0].detail, "the check did not finish within 2.8s (4 timeouts and 2s); the probe stopped waiting for it")
        XCTAssertEqual(results[1].verdict, .closed)
    }
}
