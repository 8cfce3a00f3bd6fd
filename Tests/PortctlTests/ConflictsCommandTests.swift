import Foundation
import TestSupport
import XCTest

/// `portctl conflicts` against real sockets that the test binds through a child process.
final class ConflictsCommandTests: XCTestCase {
    /// Starts python3 binding the given sockets on port 0; returns the process and "addr proto" -> port.
    func holder(_ sockets: [(String, String)]) throws -> (Process, [String: Int]) {
        guard let python = SystemTestGate.find("python3") else { throw XCTSkip("python3 is not installed (scripts/install-deps --test)") }
        let script = """
            import socket, sys, time
            out = []
            for spec in sys.argv[1:]:
                addr, proto = spec.rsplit("/", 1)
                fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
                s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
                if fam == socket.AF_INET6 and addr == "::":
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((addr, 0))
                if proto == "tcp": s.listen(4)
                out.append(f"{spec}={s.getsockname()[1]}")
                globals().setdefault("keep", []).append(s)
            print(" ".join(out), flush=True)
            time.sleep(30)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script] + sockets.map { "\($0.0)/\($0.1)" }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        addTeardownBlock {
            process.terminate()
            process.waitUntilExit()
        }
        let line = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
        var ports: [String: Int] = [:]
        for pair in line.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = pair.split(separator: "=")
            if parts.count == 2 { ports[String(parts[0])] = Int(parts[1]) }
        }
        return (process, ports)
    }

    func testFindsRealSocketsWithTheirProcess() throws {
        let sockets = [
            ("127.0.0.1", "tcp"), ("0.0.0.0", "tcp"), ("::1", "tcp"), ("::", "tcp"), ("::ffff:127.0.0.1", "tcp"),
            ("127.0.0.1", "udp"), ("::", "udp"),
        ]
        let (process, ports) = try holder(sockets)
        XCTAssertEqual(ports.count, sockets.count, "\(ports)")
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process.processIdentifier)/exe")
        for (address, proto) in sockets {
            let port = try XCTUnwrap(ports["\(address)/\(proto)"])
            let result = try portctl(["conflicts", "--port", "\(port)/\(proto)", "--json"])
            XCTAssertEqual(result.status, 2, "a held single port is a conflict: \(result.stdout)")
            let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
            let row = try XCTUnwrap((json["ports"] as? [[String: Any]])?.first)
            let holders = try XCTUnwrap(row["holders"] as? [[String: Any]])
            let mine = holders.first { $0["pid"] as? Int == Int(process.processIdentifier) }
            XCTAssertNotNil(mine, "\(address)/\(proto): \(holders)")
            XCTAssertEqual(mine?["executable"] as? String, executable)
            XCTAssertEqual(mine?["address"] as? String, address)
            XCTAssertEqual(mine?["port"] as? Int, port)
            XCTAssertEqual(mine?["user"] as? Int, Int(getuid()))
        }
    }

    func testFreePortsAndUsage() throws {
        let (_, ports) = try holder([("127.0.0.1", "tcp")])
        let held = try XCTUnwrap(ports["127.0.0.1/tcp"])
        let table = try portctl(["conflicts", "--port", "\(held)/tcp"])
        XCTAssertTrue(table.stdout.contains("held by "), table.stdout)
        XCTAssertTrue(table.stderr.contains("holds \(held)/tcp, which --port needs: stop it, or move it to another port"), table.stderr)
        let usage = try portctl(["conflicts"])
        XCTAssertEqual(usage.status, 64)
        XCTAssertEqual(usage.stderr, "portctl: error: name profiles or --port PORT/PROTO to check, e.g. portctl conflicts dss --port80\n")
        let bad = try portctl(["conflicts", "--port", "80"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertEqual(bad.stderr, "portctl: error: --port: '80' has no transport (write it as 80/tcp or 80/udp)\n")
    }
}
