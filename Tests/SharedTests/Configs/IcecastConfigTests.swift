import Foundation
import XCTest

@testable import PortModel
@testable import PortProfiles

/// Icecast 2's icecast.xml: listen-sockets, their binds, TLS and Shoutcast sockets, mount names.
final class IcecastConfigTests: XCTestCase {
    private static let fixtures = ConfigFixtures.path("icecast2")

    private func read(_ text: String, path: String = "/etc/icecast2/icecast.xml") throws -> ServerConfig {
        try IcecastConfigReader.read(path: path, files: MemoryConfigFiles([path: text]))
    }

    private func failure(_ text: String) -> ConfigError? {
        do throws(ConfigError) {
            _ = try IcecastConfigReader.read(
                path: "/etc/icecast2/icecast.xml", files: MemoryConfigFiles(["/etc/icecast2/icecast.xml": text]))
            return nil
        } catch { return error }
    }

    /// `id ports service from bind conflicts | citation`, one line per listener.
    private func summary(_ config: ServerConfig) -> [String] {
        config.listeners.map {
            "\($0.id) \($0.ports.map(\.description).joined(separator: ",")) \($0.service.rawValue) \($0.from) \($0.bind) "
                + "\($0.conflicts ?? "-") | \($0.citation)"
        }
    }

    private func socket(_ body: String) -> String { "<icecast>\n<listen-socket>\n\(body)\n</listen-socket>\n</icecast>\n" }

    func testFixtureWithSeveralListenSockets() throws {
        let path = Self.fixtures + "/icecast.xml"
        let config = try IcecastConfigReader.read(path: path, files: DiskConfigFiles())
        XCTAssertEqual(config.kind, .icecast)
        XCTAssertEqual(config.files, [path])
        XCTAssertEqual(
            summary(config),
            [
                "http 8010/tcp icy world any address - | icecast.xml:25 <port>8010</port>",
                "https 8443/tcp https world 2001:db8::10 - | icecast.xml:30 <port>8443</port>",
                "http-8020 8020/tcp icy world any address - | icecast.xml:37 <port>8020</port>",
                "shoutcast-source 8021/tcp icy broadcasters any address - | icecast.xml:38 <shoutcast-mount>/live.mp3</shoutcast-mount>",
                "shoutcast-source-8030 8030/tcp icy broadcasters any address - | icecast.xml:43 <port>8030</port>",
                "http-8040 8040/tcp icy world 127.0.0.1 - | icecast.xml:49 <port>8040</port>",
            ])
        XCTAssertEqual(config.listeners[0].citation, Citation(file: path, line: 25, text: "<port>8010</port>"))
        XCTAssertEqual(config.listeners[1].bind, .address(try CIDR(parsing: "2001:db8::10")))
        XCTAssertEqual(config.listeners[5].bind, .loopback("127.0.0.1"))
        XCTAssertFalse(
            config.listeners.contains { $0.ports.contains { $0.range.low.value == 9000 } }, "the commented-out socket is ignored")
        XCTAssertEqual(config.streamPaths, [.icy: ["/radio.ogg", "/jazz.mp3", "/live.mp3", "/dj"]])
        XCTAssertEqual(config.closed, [])
    }

    /// Debian's icecast2 package ships a config with one socket (8000) and two commented out (8080, 8443 with ssl).
    func testDebianPackagedConfig() throws {
        let path = "/etc/icecast2/icecast.xml"
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw XCTSkip("\(path) is absent or unreadable here (install Debian's icecast2 package, and read it as root or group icecast)")
        }
        let config = try IcecastConfigReader.read(path: path, files: DiskConfigFiles())
        XCTAssertEqual(config.listeners.map(\.id), ["http"])
        XCTAssertEqual(config.listeners.first?.ports, [PortSpec(PortRange(single: try PortNumber(8000)), .tcp)])
        XCTAssertEqual(config.listeners.first?.bind, .any)
        XCTAssertEqual(config.listeners.first?.citation.text, "<port>8000</port>")
        XCTAssertGreaterThan(config.listeners.first?.citation.line ?? 0, 0)
    }

    func testNoListenSocketUsesTheDefaultPort() throws {
        let config = try read("<icecast>\n  <hostname>localhost</hostname>\n</icecast>\n")
        XCTAssertEqual(summary(config), ["http 8000/tcp icy world any address - | icecast.xml: no <listen-socket>: default port 8000"])
        XCTAssertEqual(config.listeners[0].citation.line, 0)
        XCTAssertEqual(config.streamPaths, [:])
    }

    func testOldTopLevelPortFixture() throws {
        let config = try IcecastConfigReader.read(path: Self.fixtures + "/legacy-port.xml", files: DiskConfigFiles())
        XCTAssertEqual(summary(config), ["http 8100/tcp icy world 192.0.2.10 - | legacy-port.xml:3 <port>8100</port>"])
    }

    func testListenSocketWithoutPortListensOn8000() throws {
        let config = try read(socket("<bind-address>::1</bind-address>"))
        XCTAssertEqual(summary(config), ["http 8000/tcp icy world ::1 - | icecast.xml:2 <listen-socket> without <port>: default 8000"])
        XCTAssertEqual(config.listeners[0].bind, .loopback("::1"))
    }

    func testBindAddresses() throws {
        let config = try read(
            """
            <icecast>
              <listen-socket><port>8001</port><bind-address>::</bind-address></listen-socket>
              <listen-socket><port>8002</port><bind-address>localhost</bind-address></listen-socket>
              <listen-socket><port>8003</port><bind-address>2001:db8::5</bind-address></listen-socket>
              <listen-socket><port>8004</port><bind-address>0.0.0.0</bind-address></listen-socket>
              <listen-socket><port>8005</port><bind-address>198.51.100.7</bind-address></listen-socket>
            </icecast>
            """)
        XCTAssertEqual(
            config.listeners.map(\.bind),
            [.any, .loopback("localhost"), .address(try CIDR(parsing: "2001:db8::5")), .any, .address(try CIDR(parsing: "198.51.100.7"))])
        XCTAssertEqual(config.listeners.map(\.id), ["http", "http-8002", "http-8003", "http-8004", "http-8005"])
    }

    func testSamePortOnTwoAddressesGetsDistinctIDs() throws {
        let config = try read(
            """
            <icecast>
              <listen-socket><port>8000</port><bind-address>192.0.2.1</bind-address></listen-socket>
              <listen-socket><port>8000</port><bind-address>192.0.2.2</bind-address></listen-socket>
              <listen-socket><port>8000</port><bind-address>192.0.2.3</bind-address></listen-socket>
            </icecast>
            """)
        XCTAssertEqual(config.listeners.map(\.id), ["http", "http-8000", "http-8000-2"])
    }

    func testWebPortsConflictWithAWebServer() throws {
        let config = try read(
            "<icecast>\n<listen-socket><port>80</port></listen-socket>\n"
                + "<listen-socket><port>443</port><ssl>1</ssl></listen-socket>\n</icecast>"
        )
        XCTAssertEqual(
            summary(config),
            [
                "http 80/tcp icy world any address web-server | icecast.xml:2 <port>80</port>",
                "https 443/tcp https world any address web-server | icecast.xml:3 <port>443</port>",
            ])
    }

    func testTLSModesOfIcecast25AndVirtualSockets() throws {
        let config = try read(
            """
            <icecast>
              <listen-socket><port>8443</port><tls>auto_no_plain</tls></listen-socket>
              <listen-socket><port>8000</port><tls>auto</tls></listen-socket>
              <listen-socket type="virtual"><port>9000</port></listen-socket>
              <listen-socket><port>8444</port><ssl>0</ssl><tls>rfc2818</tls></listen-socket>
            </icecast>
            """)
        XCTAssertEqual(config.listeners.map(\.id), ["https", "http", "https-8444"])
        XCTAssertEqual(config.listeners.map(\.service), [.https, .icy, .https])
    }

    func testShoutcastCompatUsesTheGlobalMountOrStream() throws {
        let config = try read(socket("<port>8001</port>\n<shoutcast-compat>1</shoutcast-compat>"))
        XCTAssertEqual(summary(config), ["shoutcast-source 8001/tcp icy broadcasters any address - | icecast.xml:3 <port>8001</port>"])
        XCTAssertEqual(config.streamPaths, [.icy: ["/stream"]])
    }

    func testOutOfRangePort() {
        let error = failure(socket("  <port>99999</port>"))
        XCTAssertEqual(error?.file, "/etc/icecast2/icecast.xml")
        XCTAssertEqual(error?.line, 3)
        XCTAssertEqual(
            error?.message, "<port>99999</port>: port 99999 is out of range (1-65535); expected a port (1-65535) such as <port>8000</port>")
        XCTAssertEqual(
            error?.description,
            "/etc/icecast2/icecast.xml:3: <port>99999</port>: port 99999 is out of range (1-65535); "
                + "expected a port (1-65535) such as <port>8000</port>")
    }

    func testNonNumericAndEmptyPorts() {
        XCTAssertEqual(
            failure(socket("<port>http</port>"))?.message,
            "<port>http</port>: 'http' is not a port number; expected a port (1-65535) such as <port>8000</port>")
        XCTAssertEqual(
            failure(socket("<port></port>"))?.message, "<port></port>: no port number; expected a port (1-65535) such as <port>8000</port>")
    }

    func testShoutcastMountOnTheLastPort() {
        let error = failure(socket("<port>65535</port>\n<shoutcast-mount>/live</shoutcast-mount>"))
        XCTAssertEqual(error?.line, 4)
        XCTAssertEqual(
            error?.message,
            "<shoutcast-mount>/live</shoutcast-mount>: the Shoutcast source port would be 65535+1, out of range (1-65535); "
                + "expected the listen-socket's <port> below 65535")
    }

    func testWordsForSSLAndUnknownTLSModesAreRefused() {
        XCTAssertEqual(
            failure(socket("<port>8443</port>\n<ssl>yes</ssl>"))?.message,
            "<ssl>yes</ssl>: 'yes' is not 0 or 1 (Icecast 2.4 reads words as 0, 2.5 reads yes as 1); expected <ssl>1</ssl> or <ssl>0</ssl>")
        XCTAssertEqual(
            failure(socket("<port>8443</port>\n<tls>strict</tls>"))?.message,
            "<tls>strict</tls>: unknown TLS mode; expected disabled, auto, auto_no_plain, rfc2817 or rfc2818")
    }

    func testHostNameBindIsRefused() {
        let error = failure(socket("<port>8000</port>\n<bind-address>radio.example.org</bind-address>"))
        XCTAssertEqual(error?.line, 4)
        XCTAssertEqual(
            error?.message,
            "<bind-address>radio.example.org</bind-address>: 'radio.example.org' is not an IP address (host names are not resolved; "
                + "write the address); expected an IP address such as 192.0.2.10 or ::1")
    }

    func testMalformedXMLAndUnknownEntity() {
        let mismatched = failure("<icecast>\n<listen-socket>\n<port>8000</port>\n</icecast>\n")
        XCTAssertEqual(mismatched?.line, 4)
        XCTAssertEqual(mismatched?.message, "</icecast> closes <listen-socket> opened at line 2")
        let entity = failure("<icecast>\n<hostname>&host;</hostname>\n</icecast>")
        XCTAssertEqual(entity?.line, 2)
        XCTAssertEqual(entity?.message.hasPrefix("unknown entity &host;"), true)
    }

    func testWrongRootAndMissingFile() {
        XCTAssertEqual(
            failure("<CONFIGURATION/>")?.message, "the root element is <CONFIGURATION>; expected <icecast> (Icecast's icecast.xml)")
        do throws(ConfigError) {
            _ = try IcecastConfigReader.read(path: Self.fixtures + "/missing.xml", files: DiskConfigFiles())
            XCTFail("read a missing file")
        } catch {
            XCTAssertEqual(error, ConfigError(file: Self.fixtures + "/missing.xml", line: 0, message: "no such file"))
        }
    }
}
