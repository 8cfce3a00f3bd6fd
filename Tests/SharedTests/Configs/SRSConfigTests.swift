import XCTest

@testable import PortModel
@testable import PortProfiles

final class SRSConfigTests: XCTestCase {
    let main = "/usr/local/srs/conf/srs.conf"

    func read(_ files: [String: String]) throws -> ServerConfig {
        try SRSConfigReader.read(path: main, files: MemoryConfigFiles(files))
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

    func testEverythingEnabled() throws {
        let path = ConfigFixtures.path("srs/full.conf")
        let config = try SRSConfigReader.read(path: path, files: DiskConfigFiles())
        XCTAssertEqual(config.kind, .srs)
        XCTAssertEqual(config.files, [path, ConfigFixtures.path("srs/vhosts.conf")])
        XCTAssertEqual(
            config.listeners.map(\.id),
            [
                "rtmp", "rtmp-19350", "http-api", "https-api", "http-server", "https-server", "rtc", "rtc-tcp", "srt", "exporter",
                "mpegts-udp",
                "gb28181", "gb28181-sip",
            ])
        XCTAssertEqual(
            config.listeners.map(\.portsText),
            [
                "1935/tcp", "19350/tcp", "1985/tcp", "1990/tcp", "8080/tcp", "8088/tcp", "8000/udp", "8001/tcp", "10080/udp", "9972/tcp",
                "8935/udp", "9000/tcp", "5060/tcp",
            ])
        XCTAssertEqual(
            config.listeners.map(\.service),
            [.rtmp, .rtmp, .admin, .admin, .http, .https, .webrtc, .webrtc, .srt, .http, .broadcast, .other, .other])
        XCTAssertEqual(config.listener("rtmp")?.citation.description, "full.conf:3 listen 1935 [::]:19350;")
        XCTAssertEqual(config.listener("rtmp-19350")?.bind, .any)
        XCTAssertEqual(config.listener("http-api")?.from, .admins)
        XCTAssertEqual(config.listener("http-api")?.purpose, "HTTP API and WebRTC signalling (http_api listen 1985)")
        XCTAssertEqual(config.listener("http-api")?.citation.description, "full.conf:10 listen 1985;")
        XCTAssertEqual(config.listener("https-api")?.citation.description, "full.conf:13 listen 1990;")
        XCTAssertEqual(config.listener("http-server")?.from, .world)
        XCTAssertEqual(config.listener("rtc")?.direction, .both)
        XCTAssertEqual(config.listener("rtc")?.citation.description, "full.conf:31 listen 8000;")
        XCTAssertEqual(config.listener("srt")?.citation.description, "full.conf:41 listen 10080;")
        XCTAssertEqual(config.listener("exporter")?.bind, .loopback("127.0.0.1"))
        XCTAssertEqual(config.listener("exporter")?.from, .admins)
        XCTAssertEqual(config.listener("mpegts-udp")?.from, .broadcasters)
        XCTAssertEqual(config.listener("gb28181-sip")?.citation.description, "full.conf:64 listen 5060;")
        XCTAssertEqual(config.closed, [])
        XCTAssertEqual(config.streamPaths, [:], "SRS names no applications")
    }

    func testTheAPISwitchedOff() throws {
        let config = try SRSConfigReader.read(path: ConfigFixtures.path("srs/api-off.conf"), files: DiskConfigFiles())
        XCTAssertEqual(config.listeners.map(\.id), ["rtmp", "http-server", "rtc"])
        XCTAssertEqual(config.closed.map(\.id), ["http-api", "https-api", "https-server", "rtc-tcp", "srt", "exporter"])
        let api = config.closedItem("http-api")
        XCTAssertEqual(api?.reason, "disabled")
        XCTAssertEqual(api?.ports.map(\.description), ["1985/tcp"])
        XCTAssertEqual(api?.citation, Citation(file: ConfigFixtures.path("srs/api-off.conf"), line: 6, text: "enabled off;"))
        XCTAssertEqual(config.closedItem("https-api")?.reason, "off by default")
        XCTAssertEqual(config.closedItem("https-api")?.citation.description, "api-off.conf:5 http_api { } has no https: default off")
        XCTAssertEqual(config.closedItem("rtc-tcp")?.citation.description, "api-off.conf:14 rtc_server { } has no tcp: default off")
        XCTAssertEqual(config.closedItem("srt")?.citation.description, "api-off.conf: srt_server absent: default off")
        XCTAssertEqual(config.closedItem("srt")?.ports.map(\.description), ["10080/udp"])
    }

    func testARelativeIncludeResolvesAboveTheConfDirectoryAsSRSRunsIt() throws {
        let path = ConfigFixtures.path("srs/conf/srs.conf")
        let config = try SRSConfigReader.read(path: path, files: DiskConfigFiles())
        XCTAssertEqual(config.files.map { Citation(file: $0, line: 0, text: "").fileName }, ["srs.conf", "vhost.live.conf"])
        XCTAssertEqual(config.listeners.map(\.id), ["rtmp", "http-server"])
    }

    // MARK: Defaults

    func testOnlyRTMPIsOnWhenNothingElseIsSaid() throws {
        let config = try read("listen 1935;\n")
        XCTAssertEqual(config.listeners.map(\.id), ["rtmp"])
        XCTAssertEqual(
            config.closed.map(\.id), ["http-api", "https-api", "http-server", "https-server", "rtc", "rtc-tcp", "srt", "exporter"])
        XCTAssertEqual(
            config.closed.map { $0.ports.map(\.description).joined() },
            ["1985/tcp", "1990/tcp", "8080/tcp", "8088/tcp", "8000/udp", "8000/tcp", "10080/udp", "9972/tcp"])
        XCTAssertTrue(config.closed.allSatisfy { $0.reason == "off by default" && $0.citation.line == 0 })
        XCTAssertEqual(config.closedItem("http-api")?.citation.description, "srs.conf: http_api absent: default off")
    }

    func testDefaultListensCiteTheirSection() throws {
        let config = try read(
            "listen 1935;\nsrt_server { enabled on; }\nrtc_server {\n    enabled on;\n}\nexporter { enabled on; }\nhttp_api { enabled on; }\n"
        )
        XCTAssertEqual(config.listeners.map(\.id), ["rtmp", "http-api", "rtc", "srt", "exporter"])
        XCTAssertEqual(config.listener("srt")?.portsText, "10080/udp")
        XCTAssertEqual(config.listener("srt")?.citation.description, "srs.conf:2 srt_server { } has no listen: default 10080")
        XCTAssertEqual(config.listener("rtc")?.citation.description, "srs.conf:3 rtc_server { } has no listen: default 8000")
        XCTAssertEqual(config.listener("exporter")?.portsText, "9972/tcp")
        XCTAssertEqual(config.listener("http-api")?.portsText, "1985/tcp")
    }

    func testAMissingRTMPListenIsRefusedAsSRSDoes() {
        XCTAssertEqual(
            failure("http_api { enabled on; }\n"),
            ConfigError(
                file: main, line: 0,
                message: "no RTMP listen: SRS refuses to start without one (listen requires params); expected e.g. listen 1935;"))
    }

    func testTheAPISharingTheHTTPServersPortHasNoListenerOfItsOwn() throws {
        let config = try read(
            """
            listen 1935;
            http_api { enabled on; listen 8080; }
            http_server { enabled on; listen 8080; https { enabled on; } }
            rtc_server { enabled on; tcp { enabled on; listen 8080; } }
            """)
        XCTAssertEqual(config.listeners.map(\.id), ["rtmp", "http-server", "https-server", "rtc"])
        XCTAssertEqual(
            config.listener("http-server")?.purpose, "HTTP-FLV, HLS and web pages (http_server listen 8080, also serving the HTTP API)")
        XCTAssertEqual(config.listener("https-server")?.citation.description, "srs.conf:3 https { } has no listen: default 8088")
        XCTAssertEqual(config.closedItem("https-api")?.ports.map(\.description), ["8088/tcp"], "the HTTPS API follows the HTTPS server")
        XCTAssertNil(config.closedItem("rtc-tcp"), "WebRTC over TCP is served by the HTTP server")
    }

    func testCombinationsSRSRefusesAreErrors() {
        XCTAssertEqual(
            failure(
                "listen 1935;\nhttp_api {\n    enabled on;\n    listen 8080;\n    https { enabled on; listen 1990; }\n}\nhttp_server { enabled on; listen 8080; }\n"
            ),
            ConfigError(
                file: main, line: 5,
                message: "http_api and http_server have the same listen but not the same https listen (http_api: 1990, http_server: 8088), "
                    + "and SRS refuses to start; expected both pairs the same (the API served by the HTTP server) or both different"))
        XCTAssertEqual(
            failure("listen 1935;\nhttp_server {\n    enabled off;\n    https {\n        enabled on;\n    }\n}\n"),
            ConfigError(
                file: main, line: 5,
                message: "http_server https is enabled but http_server is not, and SRS refuses to start (https depends on http); "
                    + "expected http_server { enabled on; } as well"))
    }

    // MARK: Addresses, casters, several listens

    func testSeveralRTMPListensAndTheirBinds() throws {
        let config = try read("listen 127.0.0.1:1935 192.0.2.5:1935 [2001:db8::5]:1935 1935 [::]:1935;\n")
        XCTAssertEqual(config.listeners.map(\.id), ["rtmp", "rtmp-1935", "rtmp-1935-2", "rtmp-1935-3"], "[::]:1935 is 1935 again")
        XCTAssertEqual(
            config.listeners.map(\.bind),
            [.loopback("127.0.0.1"), .address(try CIDR(parsing: "192.0.2.5")), .address(try CIDR(parsing: "2001:db8::5")), .any])
        XCTAssertEqual(config.listener("rtmp-1935-3")?.purpose, "RTMP publishing and playback (listen 1935)")
    }

    func testStreamCastersOnAndOff() throws {
        let config = try read(
            """
            listen 1935;
            stream_caster { enabled off; caster flv; listen 8936; }
            stream_caster { caster mpegts_over_udp; listen 8935; }
            stream_caster { enabled on; caster gb28181; listen 9000; sip { enabled off; } }
            stream_caster { enabled yes; caster flv; listen 8937; }
            stream_caster { enabled on; caster flv; listen 8938; }
            """)
        XCTAssertEqual(config.listeners.map(\.id), ["rtmp", "gb28181", "flv-push"])
        XCTAssertEqual(config.listener("flv-push")?.portsText, "8938/tcp")
        XCTAssertEqual(config.listener("flv-push")?.from, .broadcasters)
        let casters = config.closed.filter {
            !["http-api", "https-api", "http-server", "https-server", "rtc", "rtc-tcp", "srt", "exporter"].contains($0.id)
        }
        XCTAssertEqual(casters.map(\.id), ["flv-push-8936", "mpegts-udp", "gb28181-sip", "flv-push-8937"])
        XCTAssertEqual(casters.map(\.reason), ["disabled", "off by default", "disabled", "enabled is \"yes\", not on"])
        XCTAssertEqual(
            casters.map { $0.citation.description },
            [
                "srs.conf:2 enabled off;", "srs.conf:3 stream_caster { } has no enabled: default off", "srs.conf:4 enabled off;",
                "srs.conf:5 enabled yes;",
            ])
    }

    func testAGB28181CasterRunsSIPOn5060ByDefault() throws {
        let config = try read("listen 1935;\nstream_caster {\n    enabled on;\n    caster gb28181;\n    listen 9000;\n}\n")
        XCTAssertEqual(config.listener("gb28181-sip")?.portsText, "5060/tcp")
        XCTAssertEqual(config.listener("gb28181-sip")?.citation.description, "srs.conf:2 stream_caster { } has no sip: listen 5060")
    }

    // MARK: Errors

    func testSyntaxErrors() {
        XCTAssertEqual(
            failure("listen 1935\nhttp_api { enabled on; }\n"),
            ConfigError(
                file: main, line: 1,
                message: "expected ';' or '{' after 'listen 1935' at the end of line 1; 'http_api' on line 2 starts another directive"))
        XCTAssertEqual(
            failure("listen 1935;\nhttp_api {\n    enabled on;\n"),
            ConfigError(
                file: main, line: 3, message: "'{' at line 2 is never closed ('http_api {'); expected '}' before the end of the file"))
        XCTAssertEqual(
            failure("listen 1935;\nvhost v { http_hooks { on_publish \"http://127.0.0.1:8085/api; } }\n"),
            ConfigError(
                file: main, line: 2,
                message: "unterminated quote: the \" opened on line 2 is never closed; expected a closing \" before the end of the file"))
        XCTAssertEqual(failure("listen 1935;\n}\n"), ConfigError(file: main, line: 2, message: "unexpected '}': no block is open here"))
    }

    func testBadListenValues() {
        XCTAssertEqual(
            failure("listen 99999;\n"),
            ConfigError(
                file: main, line: 1, message: "listen '99999': port 99999 is out of range (1-65535); expected [HOST]:PORT, e.g. 1935"))
        XCTAssertEqual(
            failure("listen 1935;\nhttp_api { enabled on; listen api.example.org:1985; }\n"),
            ConfigError(
                file: main, line: 2,
                message: "http_api listen 'api.example.org:1985': 'api.example.org' is not an IP address (host names are not resolved; "
                    + "write the address); expected [HOST]:PORT, e.g. 1985"))
        XCTAssertEqual(
            failure("listen 1935;\nrtc_server { enabled on; listen 0.0.0.0:8000; }\n"),
            ConfigError(
                file: main, line: 2,
                message:
                    "rtc_server listen '0.0.0.0:8000': '0.0.0.0:8000' is not a port number (expected 1-65535, or a range such as 6970-6999); "
                    + "expected a port alone (SRS listens on every address), e.g. listen 8000;"))
        XCTAssertEqual(
            failure("listen 1935;\nsrt_server {\n    enabled on;\n    listen 100800;\n}\n"),
            ConfigError(
                file: main, line: 4,
                message:
                    "srt_server listen '100800': port 100800 is out of range (1-65535); expected a port alone (SRS listens on every address), "
                    + "e.g. listen 10080;"))
        XCTAssertEqual(
            failure("listen 1935;\nstream_caster {\n    enabled on;\n    caster rtsp;\n    listen 554;\n}\n"),
            ConfigError(
                file: main, line: 4,
                message:
                    "stream_caster caster 'rtsp' is not one SRS knows (invalid caster); expected caster mpegts_over_udp, flv or gb28181"))
        XCTAssertEqual(
            failure("listen 1935;\nstream_caster {\n    enabled on;\n    caster mpegts_over_udp;\n}\n"),
            ConfigError(
                file: main, line: 2,
                message:
                    "stream_caster { } (caster mpegts_over_udp) has no listen, and SRS refuses to start (invalid port=0); expected e.g. listen 8935;"
            ))
    }

    func testMissingFile() {
        XCTAssertEqual(
            failure(["/usr/local/srs/conf/other.conf": "listen 1935;\n"]), ConfigError(file: main, line: 0, message: "no such file"))
    }

    // MARK: Includes

    func testIncludeTakesSeveralFiles() throws {
        let config = try read([
            main: "include conf/listen.conf apis.conf;\n", "/usr/local/srs/conf/listen.conf": "# RTMP\nlisten 1935;\n",
            "/usr/local/srs/conf/apis.conf": "http_api { enabled on; listen 127.0.0.1:1985; }\n",
        ])
        XCTAssertEqual(config.files, [main, "/usr/local/srs/conf/listen.conf", "/usr/local/srs/conf/apis.conf"])
        XCTAssertEqual(config.listener("rtmp")?.citation.description, "listen.conf:2 listen 1935;")
        XCTAssertEqual(config.listener("http-api")?.bind, .loopback("127.0.0.1"))
    }

    func testBadIncludes() {
        XCTAssertEqual(
            failure("listen 1935;\ninclude ./conf/vhosts.conf;\n"),
            ConfigError(
                file: main, line: 2,
                message: "include ./conf/vhosts.conf: './conf/vhosts.conf' is not found (tried /usr/local/srs/conf/conf/vhosts.conf "
                    + "or /usr/local/srs/conf/vhosts.conf); expected an existing file"))
        XCTAssertEqual(
            failure("listen 1935;\ninclude srs.conf;\n"),
            ConfigError(
                file: main, line: 2,
                message: "include srs.conf: include loop (srs.conf -> srs.conf); expected a file that does not include itself"))
    }

    func testTheReadersIdsAreTheBundledProfiles() throws {
        let profile = try DiskConfigFiles().read(ConfigFixtures.path("../../../profiles/srs.yaml"))
        var ids = try SRSConfigReader.read(path: ConfigFixtures.path("srs/full.conf"), files: DiskConfigFiles()).listeners.map(\.id)
        ids += try read("listen 1935;\nstream_caster { enabled on; caster flv; listen 8936; }\n").listeners.map(\.id)
        for id in Set(ids).subtracting(["rtmp-19350"]) { XCTAssertTrue(profile.contains("  - id: \(id)\n"), id) }
    }
}
