import CTLSLoader
import Foundation
import TestSupport
import XCTest

@testable import PortModel
@testable import PortProbe

/// libnftables and OpenSSL are loaded when a command first needs them, not at start-up (issue 13:
/// linked, they cost every command 1.5 ms). The dynamic loader's own log (LD_DEBUG=files) says
/// which libraries a run loaded, and how.
final class LazyLibraryTests: XCTestCase {
    func loaded(_ arguments: [String]) throws -> (libraries: [String], result: ProcessResult) {
        // Through env(1): LD_DEBUG given in Process.environment did not reach the loader here.
        let result = try runProcess(
            "/usr/bin/env",
            ["-i", "PATH=/usr/bin:/bin", "HOME=/nonexistent", "LD_DEBUG=files", TestPaths.binary("portctl").path] + arguments)
        let libraries = result.stderr.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "file=") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != " " })
        }
        return (libraries, result)
    }

    func testCommandsThatNeedNeitherLoadNeither() throws {
        let closed = freeLoopbackPort()
        for arguments in [["--version"], ["plan", "dss"], ["probe", "127.0.0.1", "--ports", "\(closed)/tcp", "--timeout", "300ms"]] {
            let (libraries, result) = try loaded(arguments)
            XCTAssertFalse(libraries.isEmpty, "LD_DEBUG=files lists what the loader loaded\n\(result.stderr.prefix(600))")
            XCTAssertTrue(libraries.contains("libc.so.6"), "\(libraries)")
            XCTAssertEqual(
                libraries.filter { $0.hasPrefix("libnftables") || $0.hasPrefix("libssl") || $0.hasPrefix("libcrypto") }, [], "\(arguments)")
        }
    }

    func testTheTLSCheckLoadsOpenSSLWhenItRuns() throws {
        let ssl = try XCTUnwrap(OpenSSL.load(), portctl_tls_error().map { String(cString: $0) } ?? "no reason")
        XCTAssertNil(portctl_tls_error())
        // The functions are OpenSSL's: a client context can be made and freed.
        let context = try XCTUnwrap(ssl.SSL_CTX_new(ssl.TLS_client_method()))
        ssl.SSL_CTX_free(context)
        // A TLS check of a port that speaks no TLS: OpenSSL loaded, the handshake fails, and says so.
        let (listener, port) = boundLoopbackSocket(SOCK_STREAM)
        defer { close(listener) }
        XCTAssertEqual(listen(listener, 4), 0)
        Thread.detachNewThread {
            let peer = accept(listener, nil, nil)
            guard peer >= 0 else { return }
            let text = Array("HTTP/1.0 400 Bad Request\r\n\r\n".utf8)
            _ = write(peer, text, text.count)
            close(peer)
        }
        let (verdict, detail) = TLSProbe.check("127.0.0.1", port, .https, 2)
        XCTAssertEqual(verdict, .openWrongProtocol)
        XCTAssertTrue(detail.hasPrefix("open, but no TLS handshake ("), detail)
    }
}
