import XCTest

@testable import PortModel
@testable import PortProfiles

/// Wowza Streaming Engine's conf/VHost.xml and conf/Server.xml, read together from either.
final class WowzaConfigTests: XCTestCase {
    private static let fixtures = ConfigFixtures.path("wowza/conf")
    private static let vhost = "/usr/local/WowzaStreamingEngine/conf/VHost.xml"
    private static let server = "/usr/local/WowzaStreamingEngine/conf/Server.xml"

    private func hostPorts(_ body: String) -> String {
        "<Root version=\"2\">\n<VHost>\n<HostPortList>\n\(body)\n</HostPortList>\n</VHost>\n</Root>\n"
    }

    private func hostPort(_ type: String, _ port: String, _ extra: String = "") -> String {
        "<HostPort>\n<Name>Test</Name>\n<Type>\(type)</Type>\n<IpAddress>*</IpAddress>\n<Port>\(port)</Port>\n\(extra)</HostPort>"
    }

    private func serverXML(_ body: String) -> String { "<Root version=\"2\">\n<Server>\n\(body)\n</Server>\n</Root>\n" }

    private func read(_ files: [String: String], path: String = WowzaConfigTests.vhost) throws -> ServerConfig {
        try WowzaConfigReader.read(path: path, files: MemoryConfigFiles(files))
    }

    private func failure(_ files: [String: String], path: String = WowzaConfigTests.vhost) -> ConfigError? {
        do {
            _ = try read(files, path: path)
            return nil
        } catch { return error as? ConfigError }
    }

    private func summary(_ config: ServerConfig) -> [String] {
        config.listeners.map {
            "\($0.id) \($0.ports.map(\.description).joined(separator: ",")) \($0.service.rawValue) \($0.from) \($0.bind) "
                + "\($0.conflicts ?? "-") | \($0.citation)"
        }
    }

    private func closed(_ config: ServerConfig) -> [String] {
        config.closed.map { "\($0.id) \($0.ports.map(\.description).joined(separator: ",")) \($0.reason) | \($0.citation)" }
    }

    private static let fixtureSummary = [
        "streaming 1935/tcp rtmp world any address - | VHost.xml:13 <Port>1935,80,554</Port>",
        "http80 80/tcp http world any address web-server | VHost.xml:13 <Port>1935,80,554</Port>",
        "rtsp554 554/tcp rtsp world any address - | VHost.xml:13 <Port>1935,80,554</Port>",
        "ssl-streaming 8443/tcp https world 192.0.2.40 - | VHost.xml:24 <Port>8443</Port>",
        "admin-http 8186/tcp admin admins 127.0.0.1 - | VHost.xml:43 <Port>8186</Port>",
        "rest-api 8187/tcp admin admins any address - | Server.xml:9 <Port>8187</Port>",
        "command 8183/tcp other admins 127.0.0.1 - | Server.xml:20 <Port>8183</Port>",
        "jmx 8184/tcp admin admins 192.0.2.30 - | Server.xml:26 <RMIConnectionPort>8184</RMIConnectionPort>",
        "jmx-registry 8185/tcp admin admins 192.0.2.30 - | Server.xml:27 <RMIRegistryPort>8185</RMIRegistryPort>",
        "rtp 20000-23029/udp rtp world any address - | Server.xml:31 <DatagramStartingPort>20000</DatagramStartingPort>",
        "manager 8088/tcp admin admins any address - | Server.xml: Streaming Engine Manager is set outside conf/: default 8088",
    ]

    func testFixtureReadFromVHostXML() throws {
        let path = Self.fixtures + "/VHost.xml"
        let config = try WowzaConfigReader.read(path: path, files: DiskConfigFiles())
        XCTAssertEqual(config.kind, .wowza)
        XCTAssertEqual(config.files, [path, Self.fixtures + "/Server.xml"])
        XCTAssertEqual(summary(config), Self.fixtureSummary)
        XCTAssertEqual(config.listeners[0].citation, Citation(file: path, line: 13, text: "<Port>1935,80,554</Port>"))
        XCTAssertEqual(config.listeners[5].citation, Citation(file: Self.fixtures + "/Server.xml", line: 9, text: "<Port>8187</Port>"))
        XCTAssertEqual(config.listeners[4].bind, .loopback("127.0.0.1"))
        XCTAssertEqual(config.listeners[9].direction, .both)
        XCTAssertEqual(
            closed(config), ["rest-docs 8189/tcp disabled | Server.xml:14 <DocumentationServerEnable>false</DocumentationServerEnable>"])
    }

    func testFixtureReadFromServerXMLGivesTheSameListeners() throws {
        let path = Self.fixtures + "/Server.xml"
        let config = try WowzaConfigReader.read(path: path, files: DiskConfigFiles())
        XCTAssertEqual(config.files, [path, Self.fixtures + "/VHost.xml"])
        XCTAssertEqual(summary(config), Self.fixtureSummary)
    }

    func testServerXMLAbsentMeansItsInstalledDefaults() throws {
        let config = try read([Self.vhost: hostPorts(hostPort("Streaming", "1935"))])
        XCTAssertEqual(config.files, [Self.vhost])
        XCTAssertEqual(
            summary(config),
            [
                "streaming 1935/tcp rtmp world any address - | VHost.xml:8 <Port>1935</Port>",
                "rest-api 8087/tcp admin admins any address - | Server.xml: not found: default 8087",
                "rtp 6970-9999/udp rtp world any address - | Server.xml: not found: default 6970",
                "manager 8088/tcp admin admins any address - | Server.xml: Streaming Engine Manager is set outside conf/: default 8088",
            ])
        XCTAssertEqual(
            closed(config),
            [
                "rest-docs 8089/tcp disabled | Server.xml: not found: default <DocumentationServerEnable>false</DocumentationServerEnable>",
                "jmx 8084/tcp,8085/tcp disabled | Server.xml: not found: default <Enable>false</Enable>",
            ])
    }

    func testVHostXMLAbsentMeansItsInstalledDefaults() throws {
        let config = try read([Self.server: serverXML("<RESTInterface><Enable>false</Enable></RESTInterface>")], path: Self.server)
        XCTAssertEqual(
            Array(summary(config).prefix(2)),
            [
                "streaming 1935/tcp rtmp world any address - | VHost.xml: not found: default HostPort Default Streaming <Port>1935</Port>",
                "admin-http 8086/tcp admin admins any address - | VHost.xml: not found: default HostPort Default Admin <Port>8086</Port>",
            ])
        XCTAssertEqual(
            Array(closed(config).prefix(2)),
            [
                "rest-api 8087/tcp disabled | Server.xml:3 <Enable>false</Enable>",
                "rest-docs 8089/tcp the REST interface is disabled | Server.xml:3 <Enable>false</Enable>",
            ])
    }

    func testTLSFromAnOlderSSLConfigWithoutEnableAndIPv6Binds() throws {
        let keyStore = "<SSLConfig>\n<KeyStorePath>conf/keystore.jks</KeyStorePath>\n</SSLConfig>\n"
        let config = try read([
            Self.vhost: hostPorts(
                hostPort("Streaming", "443", keyStore) + "\n"
                    + "<HostPort><Type>Admin</Type><IpAddress>::1</IpAddress><Port>8086</Port></HostPort>\n"
                    + "<HostPort><Type>streaming</Type><IpAddress>2001:db8::7</IpAddress><Port>1936</Port></HostPort>")
        ])
        XCTAssertEqual(Array(config.listeners.map(\.id).prefix(3)), ["ssl-streaming", "admin-http", "streaming"])
        XCTAssertEqual(config.listeners[0].service, .https)
        XCTAssertEqual(config.listeners[0].conflicts, "web-server")
        XCTAssertEqual(config.listeners[1].bind, .loopback("::1"))
        XCTAssertEqual(config.listeners[2].bind, .address(try CIDR(parsing: "2001:db8::7")))
    }

    func testOutOfRangePortInACommaList() {
        let error = failure([Self.vhost: hostPorts(hostPort("Streaming", "1935,99999"))])
        XCTAssertEqual(error?.file, Self.vhost)
        XCTAssertEqual(error?.line, 8)
        XCTAssertEqual(
            error?.message,
            "<Port>1935,99999</Port>: port 99999 is out of range (1-65535); "
                + "expected a port (1-65535) such as <Port>1935</Port> or <Port>1935,80,554</Port>")
    }

    func testNonNumericVariableAndMissingPorts() {
        XCTAssertEqual(
            failure([Self.vhost: hostPorts(hostPort("Streaming", "rtmp"))])?.message,
            "<Port>rtmp</Port>: 'rtmp' is not a port number; "
                + "expected a port (1-65535) such as <Port>1935</Port> or <Port>1935,80,554</Port>"
        )
        XCTAssertEqual(
            failure([Self.vhost: hostPorts(hostPort("Streaming", "${com.wowza.wms.HostPort.Port}"))])?.message.hasPrefix(
                "<Port>${com.wowza.wms.HostPort.Port}</Port>: '${com.wowza.wms.HostPort.Port}' is a variable, which portctl does not expand"
            ),
            true)
        let missing = failure([Self.vhost: hostPorts("<HostPort>\n<Name>Default Streaming</Name>\n<Type>Streaming</Type>\n</HostPort>")])
        XCTAssertEqual(missing?.line, 4)
        XCTAssertEqual(missing?.message, "HostPort 'Default Streaming' has no <Port>; expected e.g. <Port>1935</Port>")
    }

    func testUnknownTypeBadBooleanAndHostNameAddress() {
        XCTAssertEqual(
            failure([Self.vhost: hostPorts(hostPort("Edge", "1935"))])?.message,
            "HostPort 'Test' <Type>Edge</Type>: expected <Type>Streaming</Type> or <Type>Admin</Type>")
        let enable = failure([Self.vhost: hostPorts(hostPort("Streaming", "443", "<SSLConfig><Enable>yes</Enable></SSLConfig>\n"))])
        XCTAssertEqual(enable?.line, 9)
        XCTAssertEqual(enable?.message, "<Enable>yes</Enable>: expected <Enable>true</Enable> or <Enable>false</Enable>")
        let name = failure([
            Self.vhost: hostPorts("<HostPort><Type>Streaming</Type><IpAddress>wowza.example.org</IpAddress><Port>1935</Port></HostPort>")
        ])
        XCTAssertEqual(
            name?.message,
            "<IpAddress>wowza.example.org</IpAddress>: 'wowza.example.org' is not an IP address (host names are not resolved; "
                + "write the address); expected an IP address such as * or 192.0.2.10")
    }

    func testBadServerXMLValueCitesServerXML() {
        let error = failure([
            Self.vhost: hostPorts(hostPort("Streaming", "1935")),
            Self.server: serverXML("<RTP>\n<DatagramStartingPort>0</DatagramStartingPort>\n</RTP>"),
        ])
        XCTAssertEqual(error?.file, Self.server)
        XCTAssertEqual(error?.line, 4)
        XCTAssertEqual(
            error?.message,
            "<DatagramStartingPort>0</DatagramStartingPort>: port 0 is out of range (1-65535); "
                + "expected a port (1-65535) such as <DatagramStartingPort>6970</DatagramStartingPort>")
    }

    func testWrongRootSiblingOfTheSameKindMalformedXMLAndMissingFile() {
        XCTAssertEqual(
            failure([Self.vhost: "<icecast/>"])?.message,
            "expected <Root><VHost> (Wowza's VHost.xml) or <Root><Server> (Server.xml), not <icecast>")
        let twice = failure([Self.vhost: hostPorts(""), Self.server: hostPorts("")])
        XCTAssertEqual(twice?.file, Self.server)
        XCTAssertEqual(twice?.message, "holds <VHost> as VHost.xml does; expected <Root><Server>")
        let unclosed = failure([Self.vhost: "<Root>\n<VHost>\n<HostPortList>\n</VHost>\n</Root>"])
        XCTAssertEqual(unclosed?.line, 4)
        XCTAssertEqual(unclosed?.message, "</VHost> closes <HostPortList> opened at line 3")
        XCTAssertEqual(failure([:]), ConfigError(file: Self.vhost, line: 0, message: "no such file"))
    }
}
