import XCTest

@testable import PortModel
@testable import PortProfiles

/// Darwin Streaming Server's streamingserver.xml, and the streamingadminserver.conf beside it.
final class DSSConfigTests: XCTestCase {
    private static let fixtures = ConfigFixtures.path("dss")
    private static let path = "/etc/streaming/streamingserver.xml"
    private static let adminPath = "/etc/streaming/streamingadminserver.conf"
    private let media = "streamingserver.xml: RTP media ports are no pref: UDP 6970-6999 (DSS pairs from 6970 up)"

    private func read(_ server: String, modules: String = "", admin: String? = nil) throws -> ServerConfig {
        var files = [Self.path: "<CONFIGURATION>\n<SERVER>\n\(server)\n</SERVER>\n\(modules)\n</CONFIGURATION>\n"]
        files[Self.adminPath] = admin
        return try DSSConfigReader.read(path: Self.path, files: MemoryConfigFiles(files))
    }

    private func failure(_ server: String, modules: String = "", admin: String? = nil) -> ConfigError? {
        do {
            _ = try read(server, modules: modules, admin: admin)
            return nil
        } catch { return error as? ConfigError }
    }

    private func summary(_ config: ServerConfig) -> [String] {
        config.listeners.map {
            "\($0.id) \($0.ports.map(\.description).joined(separator: ",")) \($0.service.rawValue) \($0.direction.rawValue) \($0.from) "
                + "\($0.bind) \($0.conflicts ?? "-") | \($0.citation)"
        }
    }

    private func closed(_ config: ServerConfig) -> [String] {
        config.closed.map { "\($0.id) \($0.ports.map(\.description).joined(separator: ",")) \($0.reason) | \($0.citation)" }
    }

    func testFixtureWithDoctypeAdminConfAndNonDefaultPorts() throws {
        let path = Self.fixtures + "/streamingserver.xml"
        let config = try DSSConfigReader.read(path: path, files: DiskConfigFiles())
        XCTAssertEqual(config.kind, .dss)
        XCTAssertEqual(config.files, [path, Self.fixtures + "/streamingadminserver.conf"])
        let ports = "streamingserver.xml:22 rtsp_port 554, 80, 8000, 9554"
        XCTAssertEqual(
            summary(config),
            [
                "rtsp 554/tcp,9554/tcp rtsp in world 192.0.2.20 - | \(ports)",
                "rtsp-http 80/tcp rtsp-http in world 192.0.2.20 web-server | \(ports)",
                "mp3 8000/tcp icy in world 192.0.2.20 - | \(ports)",
                "media 6970-6999/udp rtp both world 192.0.2.20 - | \(media)",
                "broadcast 30000-30999/udp broadcast in broadcasters any address - "
                    + "| streamingserver.xml:44 minimum_static_sdp_port 30000, maximum_static_sdp_port 30999",
                "admin 1230/tcp admin in admins any address - | streamingadminserver.conf:4 port=1230",
                "admin-ssl 1250/tcp https in admins any address - | streamingadminserver.conf:8 sslport=1250",
            ])
        XCTAssertEqual(config.listeners[0].citation, Citation(file: path, line: 22, text: "rtsp_port 554, 80, 8000, 9554"))
        XCTAssertEqual(config.listeners[0].bind, .address(try CIDR(parsing: "192.0.2.20")))
        XCTAssertEqual(config.closed, [])
        XCTAssertEqual(config.streamPaths, [:])
    }

    func testDefaultsWhenPrefsAndAdminConfAreAbsent() throws {
        let path = Self.fixtures + "/defaults/streamingserver.xml"
        let config = try DSSConfigReader.read(path: path, files: DiskConfigFiles())
        XCTAssertEqual(config.files, [path])
        let ports = "streamingserver.xml: rtsp_port absent: default 554, 7070, 8000, 8001"
        XCTAssertEqual(
            summary(config),
            [
                "rtsp 554/tcp,7070/tcp,8001/tcp rtsp in world any address - | \(ports)",
                "mp3 8000/tcp icy in world any address - | \(ports)",
                "media 6970-6999/udp rtp both world any address - | \(media)",
                "broadcast 10000-65535/udp broadcast in broadcasters any address - "
                    + "| streamingserver.xml: enforce_static_sdp_port_range absent (false): any port; guide's 10000-65535",
                "admin 1220/tcp admin in admins any address - | streamingadminserver.conf: not found: default port=1220",
            ])
        XCTAssertEqual(closed(config), ["rtsp-http 80/tcp 80 is not among rtsp_port | \(ports)"])
    }

    /// QTSS before 4.0 kept module prefs in SERVER; a single port may be a PREF rather than a LIST-PREF.
    func testOldLayoutModulePrefsInServerAndSinglePortPref() throws {
        let config = try read(
            """
            <PREF NAME="rtsp_port" TYPE="UInt16">554</PREF>
            <PREF NAME="allow_broadcasts" TYPE="Bool16">false</PREF>
            """)
        XCTAssertEqual(config.listeners.map(\.id), ["rtsp", "media", "admin"])
        XCTAssertEqual(
            closed(config),
            [
                "rtsp-http 80/tcp 80 is not among rtsp_port | streamingserver.xml:3 rtsp_port 554",
                "mp3  8000 is not among rtsp_port (mp3 is served on the rtsp ports) | streamingserver.xml:3 rtsp_port 554",
                "broadcast 10000-65535/udp allow_broadcasts is false | streamingserver.xml:4 allow_broadcasts false",
            ])
    }

    func testMP3DisabledLeaves8000ToRTSP() throws {
        let config = try read(
            "<LIST-PREF NAME=\"rtsp_port\"><VALUE>554</VALUE><VALUE>8000</VALUE></LIST-PREF>",
            modules: "<MODULE NAME=\"QTSSMP3StreamingModule\">\n<PREF NAME=\"mp3_streaming_enabled\">disabled</PREF>\n</MODULE>")
        XCTAssertEqual(config.listeners.first?.ports.map(\.description), ["554/tcp", "8000/tcp"])
        XCTAssertEqual(
            closed(config).last,
            "mp3  mp3_streaming_enabled is 'disabled' (dss reads only true as true) | streamingserver.xml:6 mp3_streaming_enabled disabled")
    }

    func testLoopbackAndSeveralBindAddresses() throws {
        let loopback = try read("<PREF NAME=\"bind_ip_addr\">127.0.0.1</PREF>")
        XCTAssertEqual(loopback.listeners.first?.bind, .loopback("127.0.0.1"))
        let two = try read("<LIST-PREF NAME=\"bind_ip_addr\"><VALUE>192.0.2.1</VALUE><VALUE>0</VALUE><VALUE>192.0.2.2</VALUE></LIST-PREF>")
        XCTAssertEqual(two.listeners.map(\.id), ["rtsp", "mp3", "rtsp-2", "mp3-2", "media", "broadcast", "admin"])
        XCTAssertEqual(two.listeners[2].bind, .address(try CIDR(parsing: "192.0.2.2")))
        XCTAssertEqual(two.listeners[4].bind, .any)
        XCTAssertEqual(try read("<PREF NAME=\"bind_ip_addr\">0</PREF>").listeners.first?.bind, .any)
    }

    func testAdminConfBindAndDefaults() throws {
        let config = try read("", admin: "# comment=ignored\nbind=192.0.2.5\nssl=0\n")
        XCTAssertEqual(
            summary(config).last, "admin 1220/tcp admin in admins 192.0.2.5 - | streamingadminserver.conf: port absent: default 1220")
        XCTAssertEqual(config.files, [Self.path, Self.adminPath])
    }

    func testOutOfRangePortInAListValue() {
        let error = failure("<LIST-PREF NAME=\"rtsp_port\">\n<VALUE>554</VALUE>\n<VALUE>70000</VALUE>\n</LIST-PREF>")
        XCTAssertEqual(error?.file, Self.path)
        XCTAssertEqual(error?.line, 5)
        XCTAssertEqual(
            error?.message, "rtsp_port value '70000': port 70000 is out of range (1-65535); expected a port (1-65535) such as 554")
    }

    func testNonNumericAndMissingPorts() {
        XCTAssertEqual(
            failure("<PREF NAME=\"rtsp_port\">rtsp</PREF>")?.message,
            "rtsp_port value 'rtsp': 'rtsp' is not a port number; expected a port (1-65535) such as 554")
        let empty = failure("<LIST-PREF NAME=\"rtsp_port\" TYPE=\"UInt16\">\n</LIST-PREF>")
        XCTAssertEqual(empty?.line, 3)
        XCTAssertEqual(
            empty?.message,
            "rtsp_port has no value, so DSS would accept no connection; expected at least one, e.g. <VALUE>554</VALUE>")
    }

    func testIPv6AndHostNameBindsAreRefused() {
        XCTAssertEqual(
            failure("<PREF NAME=\"bind_ip_addr\">2001:db8::1</PREF>")?.message,
            "bind_ip_addr '2001:db8::1': '2001:db8::1' is IPv6; this server binds IPv4 addresses only; "
                + "expected an IP address such as 192.0.2.10, or 0 for all addresses")
        XCTAssertEqual(failure("<PREF NAME=\"bind_ip_addr\">streaming.example.org</PREF>")?.line, 3)
    }

    func testReflectorRangeMustNotBeReversed() {
        let reflector = """
            <MODULE NAME="QTSSReflectorModule">
            <PREF NAME="enforce_static_sdp_port_range">true</PREF>
            <PREF NAME="minimum_static_sdp_port">40000</PREF>
            <PREF NAME="maximum_static_sdp_port">30000</PREF>
            </MODULE>
            """
        let error = failure("", modules: reflector)
        XCTAssertEqual(error?.line, 8)
        XCTAssertEqual(
            error?.message, "minimum_static_sdp_port 40000 is above maximum_static_sdp_port 30000; expected minimum <= maximum")
    }

    func testBadAdminConfValues() {
        let port = failure("", admin: "port=99999\n")
        XCTAssertEqual(port?.file, Self.adminPath)
        XCTAssertEqual(port?.line, 1)
        XCTAssertEqual(port?.message, "port=99999: port 99999 is out of range (1-65535); expected a port (1-65535) such as port=1220")
        XCTAssertEqual(
            failure("", admin: "\nssl=yes\n")?.description, "\(Self.adminPath):2: ssl=yes: 'yes' is not 0 or 1; expected ssl=1 or ssl=0")
    }

    func testMalformedXMLWrongRootAndMissingFile() {
        let mismatched = failure("<PREF NAME=\"rtsp_port\">554</LIST-PREF>")
        XCTAssertEqual(mismatched?.line, 3)
        XCTAssertEqual(mismatched?.message, "</LIST-PREF> closes <PREF> opened at line 3")
        let entity = failure("<PREF NAME=\"movie_folder\">&movies;</PREF>")
        XCTAssertEqual(entity?.message.hasPrefix("unknown entity &movies;"), true)
        do throws(ConfigError) {
            _ = try DSSConfigReader.read(path: Self.path, files: MemoryConfigFiles([Self.path: "<streaming/>"]))
            XCTFail("read a file without <CONFIGURATION>")
        } catch {
            XCTAssertEqual(error.message, "the root element is <streaming>; expected <CONFIGURATION> (DSS's streamingserver.xml)")
        }
        do throws(ConfigError) {
            _ = try DSSConfigReader.read(path: Self.path, files: MemoryConfigFiles([:]))
            XCTFail("read a missing file")
        } catch {
            XCTAssertEqual(error, ConfigError(file: Self.path, line: 0, message: "no such file"))
        }
    }

    /// streamingadminserver.conf written with CRLF line ends is read line by line.
    func testACRLFAdminConfIsRead() throws {
        let files = MemoryConfigFiles([
            "/dss/streamingserver.xml": "<CONFIGURATION>\n<SERVER>\n</SERVER>\n</CONFIGURATION>\n",
            "/dss/streamingadminserver.conf": "#comment\r\nport=1300\r\nssl=0\r\n",
        ])
        let config = try DSSConfigReader.read(path: "/dss/streamingserver.xml", files: files)
        XCTAssertEqual(config.listener("admin")?.portsText, "1300/tcp")
        XCTAssertEqual(config.listener("admin")?.citation.description, "streamingadminserver.conf:2 port=1300")
    }
}
