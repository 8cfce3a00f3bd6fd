import XCTest

@testable import PortModel
@testable import PortProfiles

final class NginxRTMPConfigTests: XCTestCase {
    let main = "/etc/nginx/nginx.conf"

    func read(_ files: [String: String]) throws -> ServerConfig {
        try NginxRTMPConfigReader.read(path: main, files: MemoryConfigFiles(files))
    }

    func read(_ text: String) throws -> ServerConfig { try read([main: text]) }

    func failure(_ files: [String: String]) -> ConfigError? {
        do {
            _ = try read(files)
            return nil
        } catch { return error as? ConfigError }
    }

    func failure(_ text: String) -> ConfigError? { failure([main: text]) }

    // MARK: The fixtures on disk

    func testTheFixtureOpensWhatItListensOnAndCitesEachLine() throws {
        let path = ConfigFixtures.path("nginx-rtmp/nginx.conf")
        let config = try NginxRTMPConfigReader.read(path: path, files: DiskConfigFiles())
        XCTAssertEqual(config.kind, .nginxRTMP)
        XCTAssertEqual(config.path, path)
        XCTAssertEqual(
            config.files.map { Citation(file: $0, line: 0, text: "").fileName }, ["nginx.conf", "mime.types", "status.conf", "web.conf"])
        XCTAssertEqual(config.listeners.map(\.id), ["rtmp", "http", "http-8081", "http-80", "https"])
        XCTAssertEqual(config.listeners.map(\.portsText), ["1936/tcp", "8080/tcp", "8081/tcp", "80/tcp", "443/tcp"])
        // listen [::]:1936 on the next line is the same opening: one rtmp, citing the first.
        XCTAssertEqual(config.listener("rtmp")?.citation.description, "nginx.conf:14 listen 1936;")
        XCTAssertEqual(config.listener("rtmp")?.service, .rtmp)
        XCTAssertEqual(config.listener("rtmp")?.purpose, "RTMP publishing and playback (rtmp server listen 1936)")
        XCTAssertEqual(config.listener("http")?.citation.description, "nginx.conf:39 listen 8080;")
        XCTAssertEqual(config.listener("http-8081")?.bind, .loopback("127.0.0.1"))
        XCTAssertEqual(config.listener("http-8081")?.citation.description, "status.conf:3 listen 127.0.0.1:8081;")
        XCTAssertEqual(config.listener("http-80")?.citation.description, "web.conf:3 listen 80 default_server;")
        XCTAssertEqual(config.listener("http-80")?.conflicts, "web-server")
        XCTAssertEqual(config.listener("https")?.service, .https)
        XCTAssertEqual(config.listener("https")?.conflicts, "web-server")
        XCTAssertEqual(config.listener("https")?.citation.line, 10)
        XCTAssertNil(config.listener("http")?.conflicts)
        XCTAssertTrue(config.listeners.allSatisfy { $0.from == .world && $0.direction == .in })
        XCTAssertEqual(config.closed, [])
        XCTAssertEqual(config.streamPaths, [.rtmp: ["live", "hls"]])
    }

    func testServersWithoutListenAndTheStreamModule() throws {
        let config = try NginxRTMPConfigReader.read(path: ConfigFixtures.path("nginx-rtmp/defaults.conf"), files: DiskConfigFiles())
        XCTAssertEqual(config.listeners.map(\.id), ["rtmp", "http", "stream-udp-1940", "stream-12345-12349"])
        XCTAssertEqual(config.listener("rtmp")?.bind, .address(try CIDR(parsing: "192.0.2.10")))
        // nginx listens on 80 for an http server with no listen (when started as root).
        XCTAssertEqual(config.listener("http")?.portsText, "80/tcp")
        XCTAssertEqual(config.listener("http")?.citation.description, "defaults.conf:21 server { } has no listen: default 80")
        XCTAssertEqual(config.listener("http")?.conflicts, "web-server")
        XCTAssertEqual(config.listener("stream-udp-1940")?.portsText, "1940/udp")
        XCTAssertEqual(config.listener("stream-udp-1940")?.service, .other)
        XCTAssertEqual(config.listener("stream-12345-12349")?.portsText, "12345-12349/tcp")
        XCTAssertEqual(config.listener("stream-12345-12349")?.bind, .address(try CIDR(parsing: "2001:db8::5")))
        // nginx-rtmp has no default port: an rtmp server without listen listens nowhere.
        XCTAssertEqual(config.closed.map(\.id), ["rtmp-line-3"])
        XCTAssertEqual(config.closed.first?.reason, "no listen")
        XCTAssertEqual(config.closed.first?.ports, [])
        XCTAssertEqual(
            config.closed.first?.citation.description, "defaults.conf:3 server { } has no listen: nginx-rtmp has no default port")
        XCTAssertEqual(config.streamPaths[.rtmp], ["live", "vod"])
    }

    func testAMissingIncludeOnDiskNamesTheIncludeLine() {
        let path = ConfigFixtures.path("nginx-rtmp/missing-include.conf")
        XCTAssertThrowsError(try NginxRTMPConfigReader.read(path: path, files: DiskConfigFiles())) { error in
            let error = error as? ConfigError
            XCTAssertEqual(error?.file, path)
            XCTAssertEqual(error?.line, 6)
            XCTAssertTrue(error?.message.hasPrefix("include rtmp.d/servers.conf: cannot read ") ?? false, "\(String(describing: error))")
            XCTAssertTrue(
                error?.message.hasSuffix("rtmp.d/servers.conf: no such file; expected an existing, readable file (a glob may match none)")
                    ?? false)
        }
    }

    func testAMissingFileIsAnError() {
        XCTAssertEqual(failure(["/etc/nginx/other.conf": "events { }\n"]), ConfigError(file: main, line: 0, message: "no such file"))
    }

    // MARK: Defaults, ids and binds

    func testNoRTMPBlockAndNoHTTPBlockAreReportedClosed() throws {
        let config = try read("events {\n    worker_connections 768;\n}\n")
        XCTAssertEqual(config.listeners, [])
        XCTAssertEqual(config.closed.map(\.id), ["rtmp", "http"])
        XCTAssertEqual(config.closed.map(\.reason), ["no rtmp block", "no http block"])
        XCTAssertEqual(config.closed.first?.citation.description, "nginx.conf: rtmp { } absent: nginx-rtmp-module listens nowhere")
    }

    func testSeveralServersGetUniqueIdsAndDuplicatesAreMerged() throws {
        let config = try read(
            """
            rtmp {
                server {
                    listen 1935;
                    listen [::]:1935 ipv6only=on;
                }
                server {
                    listen 1936 bind so_keepalive=on;
                    listen 127.0.0.1:1937;
                    listen localhost:1938;
                    listen [::1]:1939;
                    listen [2001:db8::5]:1935;
                    listen unix:/run/nginx-rtmp.sock;
                }
            }
            http {
                server { listen 8080; }
                server { listen [::]:8080 default_server; }
            }
            """)
        XCTAssertEqual(config.listeners.map(\.id), ["rtmp", "rtmp-1936", "rtmp-1937", "rtmp-1938", "rtmp-1939", "rtmp-1935", "http"])
        XCTAssertEqual(config.listener("rtmp")?.citation.line, 3)
        XCTAssertEqual(config.listener("rtmp-1937")?.bind, .loopback("127.0.0.1"))
        XCTAssertEqual(config.listener("rtmp-1938")?.bind, .loopback("localhost"))
        XCTAssertEqual(config.listener("rtmp-1939")?.bind, .loopback("::1"))
        XCTAssertEqual(config.listener("rtmp-1935")?.bind, .address(try CIDR(parsing: "2001:db8::5")))
        XCTAssertEqual(config.listener("http")?.citation.description, "nginx.conf:16 listen 8080;")
    }

    func testHTTPListenForms() throws {
        let config = try read(
            """
            rtmp { server { listen 1935; } }
            http {
                server {
                    listen 443 quic reuseport;
                    listen 443 ssl;
                    listen 127.0.0.1;
                    listen 192.0.2.7:8443 ssl http2;
                    listen *:8080 backlog=511;
                    listen unix:/run/nginx.sock;
                }
            }
            """)
        XCTAssertEqual(config.listeners.map(\.id), ["rtmp", "quic", "https", "http", "https-8443", "http-8080"])
        XCTAssertEqual(config.listener("quic")?.portsText, "443/udp")
        XCTAssertEqual(config.listener("quic")?.service, .https)
        XCTAssertEqual(config.listener("https")?.portsText, "443/tcp")
        XCTAssertEqual(config.listener("http")?.portsText, "80/tcp", "an address alone listens on port 80")
        XCTAssertEqual(config.listener("http")?.purpose, "HTTP server in http { } (listen 127.0.0.1, default port 80)")
        XCTAssertEqual(config.listener("https-8443")?.bind, .address(try CIDR(parsing: "192.0.2.7")))
        XCTAssertEqual(config.listener("http-8080")?.bind, .any)
    }

    // MARK: Comments and quotes

    func testCommentsQuotesAndVariables() throws {
        let config = try read(
            """
            # rtmp { server { listen 1111; } }
            http {
                log_format main '$remote_addr "$request" # not a comment; nor a ; or a {';
                map $http_upgrade $connection_upgrade { default upgrade; '' close; }
                server {
                    listen "8080";  # listen 9999;
                    return 200 "a # in quotes; a } brace and an \\" escaped quote";
                    location ~ "^/(a|b){2}$" { return 204; }
                    rewrite ^ https://${host}$request_uri;
                }
            }
            rtmp { server { listen '1935'; application 'my app' { } } }
            """)
        XCTAssertEqual(config.listeners.map(\.id), ["rtmp", "http"])
        XCTAssertEqual(config.listener("http")?.citation.description, "nginx.conf:6 listen \"8080\";")
        XCTAssertEqual(config.listener("rtmp")?.citation.line, 12)
        XCTAssertEqual(config.streamPaths[.rtmp], ["my app"])
    }

    // MARK: Bad listen values

    func testBadListenValuesSayWhatWasExpected() {
        XCTAssertEqual(
            failure("rtmp {\n    server {\n        listen 99999;\n    }\n}\n"),
            ConfigError(
                file: main, line: 3, message: "listen '99999': port 99999 is out of range (1-65535); expected [HOST]:PORT, e.g. 1935"))
        XCTAssertEqual(
            failure("rtmp { server { listen rtmp.example.org:1935; } }\n"),
            ConfigError(
                file: main, line: 1,
                message: "listen 'rtmp.example.org:1935': 'rtmp.example.org' is not an IP address (host names are not resolved; "
                    + "write the address); expected [HOST]:PORT, e.g. 1935"))
        XCTAssertEqual(
            failure("rtmp { server { listen 192.0.2.1; } }\n"),
            ConfigError(
                file: main, line: 1,
                message: "listen 192.0.2.1: '192.0.2.1' has no port; expected [ADDRESS:]PORT, e.g. 1935 or 127.0.0.1:1935"))
        XCTAssertEqual(
            failure("rtmp { server { listen 1935 tls; } }\n"),
            ConfigError(
                file: main, line: 1,
                message: "listen 1935 tls: unknown parameter 'tls'; expected bind, proxy_protocol, ipv6only=on|off, so_keepalive=..."))
        XCTAssertEqual(
            failure("rtmp { server { listen [::]:1935 ipv6only=yes; } }\n"),
            ConfigError(file: main, line: 1, message: "listen [::]:1935 ipv6only=yes: 'ipv6only=yes': expected ipv6only=on or ipv6only=off")
        )
        XCTAssertEqual(
            failure("rtmp { server { listen; } }\n"),
            ConfigError(file: main, line: 1, message: "listen: no address; expected listen [ADDRESS:]PORT [PARAMETERS]; e.g. listen 1935;"))
        XCTAssertEqual(
            failure("http { server { listen 8080 garbage; } }\n")?.message,
            "listen 8080 garbage: unknown parameter 'garbage'; expected bind, default, default_server, deferred, http2, http3, proxy_protocol, "
                + "quic, reuseport, spdy, ssl, accept_filter=..., backlog=..., fastopen=..., ipv6only=on|off, rcvbuf=..., setfib=..., "
                + "sndbuf=..., so_keepalive=...")
        XCTAssertEqual(
            failure("stream {\n    server {\n        proxy_pass 198.51.100.1:1935;\n    }\n}\n"),
            ConfigError(
                file: main, line: 2,
                message: "server { } in stream { } has no listen, and nginx refuses to start (no \"listen\" is defined for server); "
                    + "expected e.g. listen 12345;"))
    }

    func testTheReadersIdsAreTheBundledProfiles() throws {
        let profile = try DiskConfigFiles().read(ConfigFixtures.path("../../../profiles/nginx-rtmp.yaml"))
        let config = try read("rtmp { server { listen 1935; } }\nhttp { server { listen 8080; } }\n")
        for id in config.listeners.map(\.id) { XCTAssertTrue(profile.contains("  - id: \(id)\n"), id) }
    }

    /// nginx takes a block header over several lines; a byte-order mark it refuses, and so does portctl.
    func testMultiLineHeadersAndAByteOrderMark() throws {
        let path = "/etc/nginx/nginx.conf"
        let multi =
            "events { }\nhttp {\n  map $http_upgrade\n      $connection_upgrade { default upgrade; }\n  server { listen 8080; }\n}\n"
        let config = try NginxRTMPConfigReader.read(path: path, files: MemoryConfigFiles([path: multi]))
        XCTAssertEqual(config.listener("http")?.portsText, "8080/tcp")
        let bom = "\u{FEFF}rtmp { server { listen 1936; } }\n"
        XCTAssertThrowsError(try NginxRTMPConfigReader.read(path: path, files: MemoryConfigFiles([path: bom]))) {
            XCTAssertEqual(
                ($0 as? ConfigError)?.description,
                "/etc/nginx/nginx.conf:1: starts with a UTF-8 byte-order mark, which nginx and SRS refuse; save the file without it")
        }
    }

    /// Thousands of listens stay linear: one id each, numbered without searching from 2 each time.
    func testManyListensGetUniqueIDs() throws {
        let path = "/etc/nginx/nginx.conf"
        let servers = (0..<3000).map { "  server { listen 10.0.\($0 / 250).\($0 % 250 + 1):1935; }" }.joined(separator: "\n")
        let config = try NginxRTMPConfigReader.read(path: path, files: MemoryConfigFiles([path: "rtmp {\n\(servers)\n}\n"]))
        XCTAssertEqual(config.listeners.count, 3000)
        XCTAssertEqual(Set(config.listeners.map(\.id)).count, 3000)
    }
}
