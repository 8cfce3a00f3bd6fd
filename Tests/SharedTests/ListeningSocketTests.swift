import Foundation
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

/// Real sockets, bound by this test on loopback and wildcard addresses, found by both readers.
final class ListeningSocketTests: XCTestCase {
    /// Binds a socket on port 0 and returns its descriptor and the port the kernel chose.
    func bind(_ family: Int32, _ type: Int32, _ address: String) throws -> (Int32, Int) {
        let descriptor = socket(family, type, 0)
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        var storage = sockaddr_storage()
        var length: socklen_t
        if family == AF_INET {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, address, &sin.sin_addr)
            withUnsafeBytes(of: sin) { bytes in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            inet_pton(AF_INET6, address, &sin6.sin6_addr)
            withUnsafeBytes(of: sin6) { bytes in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, length) }
        }
        guard bound == 0 else { throw XCTSkip("cannot bind \(address): \(String(cString: strerror(errno)))") }
        if type == Int32(SOCK_STREAM.rawValue) { XCTAssertEqual(listen(descriptor, 8), 0) }
        var actual = sockaddr_storage()
        var actualLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &actualLength) }
        }
        let port = withUnsafeBytes(of: actual) { Int($0[2]) << 8 | Int($0[3]) }
        addTeardownBlock { close(descriptor) }
        return (descriptor, port)
    }

    func testBothReadersFindTCPAndUDPOnEveryKindOfAddress() throws {
        let tcp = Int32(SOCK_STREAM.rawValue)
        let udp = Int32(SOCK_DGRAM.rawValue)
        let cases: [(Int32, Int32, String, Transport, String)] = [
            (AF_INET, tcp, "127.0.0.1", .tcp, "127.0.0.1"),
            (AF_INET, tcp, "0.0.0.0", .tcp, "0.0.0.0"),
            (AF_INET6, tcp, "::1", .tcp, "::1"),
            (AF_INET6, tcp, "::", .tcp, "::"),
            (AF_INET6, tcp, "::ffff:127.0.0.1", .tcp, "::ffff:127.0.0.1"),
            (AF_INET, udp, "127.0.0.1", .udp, "127.0.0.1"),
            (AF_INET6, udp, "::", .udp, "::"),
        ]
        var expected: [(Transport, String, Int)] = []
        for (family, type, address, transport, shown) in cases {
            let (_, port) = try bind(family, type, address)
            expected.append((transport, shown, port))
        }
        let viaNetlink = try XCTUnwrap(SockDiag.listening(), "netlink sock_diag is available on Linux")
        let viaProc = ListeningSocket.fromProcNet()
        for (transport, address, port) in expected {
            for (reader, sockets) in [("netlink", viaNetlink), ("/proc/net", viaProc)] {
                XCTAssertTrue(
                    sockets.contains { $0.transport == transport && $0.address == address && $0.port == port },
                    "\(reader) misses \(address):\(port)/\(transport.rawValue)")
            }
        }
        // Both readers agree on the inode, and the owner index maps it to this process.
        let port = expected[0].2  // the 127.0.0.1 TCP listener
        let socket = try XCTUnwrap(viaNetlink.first { $0.port == port && $0.transport == .tcp })
        XCTAssertEqual(viaProc.first { $0.port == port && $0.transport == .tcp }?.inode, socket.inode)
        let owners = SocketOwnerIndex(wanted: [socket.inode])
        let owner = try XCTUnwrap(owners.owners[socket.inode]?.first)
        XCTAssertEqual(owner.pid, Int(getpid()))
        XCTAssertEqual(owner.executable, readLink("/proc/self/exe"))
        XCTAssertEqual(owner.uid, Int(getuid()))
    }

    func testProcNetParsing() {
        let text = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000   33        0 4242 1 0000000000000000 100 0 0 10 0
               1: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000   33        0 4243 1 0000000000000000 100 0 0 10 0
            """
        let sockets = ListeningSocket.parse(text, transport: .tcp, family: .ipv4)
        XCTAssertEqual(sockets.count, 1, "only LISTEN sockets")
        XCTAssertEqual(sockets.first?.address, "127.0.0.1")
        XCTAssertEqual(sockets.first?.port, 8080)
        XCTAssertEqual(sockets.first?.uid, 33)
        XCTAssertEqual(sockets.first?.inode, 4242)
        XCTAssertEqual(ListeningSocket.decodeAddress("0000000000000000FFFF00000100007F", family: .ipv6), "::ffff:127.0.0.1")
        XCTAssertEqual(ListeningSocket.decodeAddress("00000000000000000000000001000000", family: .ipv6), "::1")
    }

    func testUnitFromCgroup() {
        XCTAssertEqual(SocketOwnerIndex.unit(fromCgroup: "0::/system.slice/nginx.service\n"), "nginx.service")
        XCTAssertEqual(SocketOwnerIndex.unit(fromCgroup: "0::/user.slice/user-1000.slice/session-2.scope\n"), nil)
    }

    func testSSHConfigPortsFollowIncludes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-ssh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("etc/ssh/sshd_config.d"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try "# comment\nInclude /etc/ssh/sshd_config.d/*.conf\nPort 2222\nMatch User x\n  Port 9\n".write(
            to: root.appendingPathComponent("etc/ssh/sshd_config"), atomically: true, encoding: .utf8)
        try "ListenAddress 192.0.2.1:2200\nport=2201\n".write(
            to: root.appendingPathComponent("etc/ssh/sshd_config.d/10-extra.conf"), atomically: true, encoding: .utf8)
        let sources = SSHFacts.configPorts(root: root.path)
        XCTAssertEqual(sources.map(\.port.value).sorted(), [2200, 2201, 2222])
        XCTAssertTrue(sources.contains { $0.origin == "/etc/ssh/sshd_config.d/10-extra.conf:1" }, "\(sources)")
        XCTAssertEqual(SSHFacts.parseSession("198.51.100.9 50022 192.0.2.1 2222")?.serverPort.value, 2222)
        XCTAssertNil(SSHFacts.parseSession("garbage"))
    }
}
