import XCTest

@testable import PlanRendering
@testable import PortModel
@testable import PortPlanning
@testable import PortProfiles

final class MediaMTXConfigTests: XCTestCase {
    func read(_ text: String, file: String = "/etc/mediamtx/mediamtx.yml") throws -> ServerConfig {
        try MediaMTXConfigReader.read(path: file, files: MemoryConfigFiles([file: text]))
    }

    func failure(_ text: String) -> ConfigError? {
        do {
            _ = try read(text)
            return nil
        } catch { return error as? ConfigError }
    }

    func testAnEmptyFileGetsMediaMTXsDefaults() throws {
        let config = try read("# nothing set\n")
        XCTAssertEqual(config.listeners.map(\.id), ["rtsp", "rtp", "rtcp", "rtmp", "hls", "webrtc-http", "webrtc-ice", "srt"])
        XCTAssertEqual(
            config.listeners.map(\.portsText),
            ["8554/tcp", "8000/udp", "8001/udp", "1935/tcp", "8888/tcp", "8889/tcp", "8189/udp", "8890/udp"])
        XCTAssertTrue(config.listeners.allSatisfy { $0.bind == .any && $0.citation.line == 0 })
        XCTAssertEqual(config.listener("rtmp")?.citation.description, "mediamtx.yml: rtmpAddress absent: default :1935")
        XCTAssertEqual(
            Set(config.closed.map(\.id)), ["rtsps", "srtp", "srtcp", "multicast", "rtmps", "api", "metrics", "pprof", "playback"])
        XCTAssertEqual(config.closedItem("api")?.citation.description, "mediamtx.yml: api absent: default no")
        XCTAssertEqual(config.streamPaths, [:])
    }

    func testTheFixtureOpensWhatItListensOnAndCitesEachLine() throws {
        let path = ConfigFixtures.path("mediamtx/mediamtx.yml")
        let config = try MediaMTXConfigReader.read(path: path, files: DiskConfigFiles())
        XCTAssertEqual(config.kind, .mediamtx)
        XCTAssertEqual(config.files, [path])
        XCTAssertEqual(config.listeners.map(\.id), ["rtsp", "rtsps", "rtmp", "hls", "webrtc-http", "webrtc-ice", "api"])
        XCTAssertEqual(config.listener("rtsp")?.citation.description, "mediamtx.yml:12 rtspAddress: :8555")
        XCTAssertEqual(config.listener("rtsps")?.portsText, "8323/tcp")
        XCTAssertEqual(config.listener("rtsps")?.bind, .any, "[::] is every address")
        // The trailing comment is not part of the citation.
        XCTAssertEqual(config.listener("rtmp")?.citation.description, "mediamtx.yml:19 rtmpAddress: 0.0.0.0:1936")
        XCTAssertEqual(config.listener("hls")?.bind, .loopback("127.0.0.1"))
        XCTAssertEqual(config.listener("webrtc-http")?.bind, .address(try CIDR(parsing: "192.0.2.10")))
        XCTAssertEqual(config.listener("api")?.from, .admins)
        XCTAssertEqual(config.closedItem("rtp")?.reason, "rtspTransports has no udp")
        XCTAssertEqual(config.closedItem("rtp")?.citation.description, "mediamtx.yml:10 rtspTransports: [tcp]")
        XCTAssertEqual(config.closedItem("srt")?.citation.description, "mediamtx.yml:31 srt: no")
        XCTAssertEqual(config.closedItem("rtmps")?.reason, "rtmpEncryption is no")
        XCTAssertEqual(config.closedItem("metrics")?.citation.line, 35)
        XCTAssertEqual(config.streamPaths[.rtsp], ["cam1"], "regular expressions and all_others are not stream names")
    }

    func testTheOlderSpellingIsReadToo() throws {
        let config = try MediaMTXConfigReader.read(path: ConfigFixtures.path("mediamtx/old-mediamtx.yml"), files: DiskConfigFiles())
        XCTAssertEqual(config.listener("rtsp")?.portsText, "554/tcp")
        XCTAssertEqual(config.closedItem("rtmp")?.citation.description, "old-mediamtx.yml:5 rtmpDisable: yes")
        XCTAssertEqual(config.listener("hls")?.portsText, "8080/tcp")
        XCTAssertEqual(config.listener("multicast-rtp")?.portsText, "9002/udp")
        XCTAssertEqual(config.listener("multicast-rtcp")?.citation.description, "old-mediamtx.yml:9 multicastRTCPPort: 9003")
        XCTAssertEqual(config.closedItem("rtsps")?.reason, "encryption is no")
    }

    func testMulticastIsOpenedOnlyWhenListed() throws {
        XCTAssertEqual(
            try read("rtspAddress: :8554\n").closedItem("multicast")?.reason, "rtspTransports absent: multicast is opened only when listed")
        XCTAssertEqual(try read("rtspTransports: [multicast]\n").listener("multicast-rtp")?.portsText, "8002/udp")
    }

    func testStrictEncryptionClosesThePlainPorts() throws {
        let config = try read("rtspEncryption: strict\nrtmpEncryption: strict\n")
        XCTAssertNil(config.listener("rtsp"))
        XCTAssertEqual(config.closedItem("rtsp")?.reason, "rtspEncryption is strict")
        XCTAssertEqual(config.listener("rtsps")?.portsText, "8322/tcp")
        XCTAssertEqual(config.listener("srtp")?.portsText, "8004/udp")
        XCTAssertEqual(config.listener("rtmps")?.service, .rtmps)
        XCTAssertEqual(config.closedItem("rtmp")?.citation.description, "mediamtx.yml:2 rtmpEncryption: strict")
    }

    func testIPv6AndHostPortForms() throws {
        let config = try read("rtspAddress: \"[2001:db8::5]:8554\"\nrtmpAddress: \"[::1]:1935\"\nhlsAddress: 198.51.100.4:8888\n")
        XCTAssertEqual(config.listener("rtsp")?.bind, .address(try CIDR(parsing: "2001:db8::5")))
        XCTAssertEqual(config.listener("rtmp")?.bind, .loopback("::1"))
        XCTAssertEqual(config.listener("hls")?.bind, .address(try CIDR(parsing: "198.51.100.4")))
    }

    func testBadInputNamesTheLineAndWhatWasExpected() {
        let range = failure("rtsp: yes\nrtmpAddress: :99999\n")
        XCTAssertEqual(range?.line, 2)
        XCTAssertEqual(
            range?.message, "rtmpAddress ':99999': port 99999 is out of range (1-65535); expected [HOST]:PORT, e.g. :1935")
        XCTAssertEqual(failure("rtmp: maybe\n")?.description, "/etc/mediamtx/mediamtx.yml:1: rtmp 'maybe': expected yes or no")
        XCTAssertEqual(failure("\n\nrtspTransports: [udp, quic]\n")?.line, 3)
        XCTAssertEqual(failure("rtspEncryption: sometimes\n")?.message, "rtspEncryption 'sometimes': expected one of no, optional, strict")
        XCTAssertEqual(
            failure("hlsAddress: stream.example.org:8888\n")?.message,
            "hlsAddress 'stream.example.org:8888': 'stream.example.org' is not an IP address (host names are not resolved; write the address); expected [HOST]:PORT, e.g. :8888"
        )
        XCTAssertEqual(failure("srtAddress: 192.0.2.1\n")?.message, "srtAddress '192.0.2.1' has no port; expected [HOST]:PORT, e.g. :8890")
        XCTAssertEqual(failure("multicastRTPPort: 0\n")?.line, 1)
        XCTAssertEqual(failure("rtspAddress: [:8554\n")?.line, 1, "a YAML syntax error has its line")
        XCTAssertEqual(failure("- a list\n")?.message, "expected a mapping of settings such as 'rtspAddress: :8554'")
        XCTAssertThrowsError(try MediaMTXConfigReader.read(path: "/nonexistent/mediamtx.yml", files: DiskConfigFiles())) {
            XCTAssertEqual(($0 as? ConfigError)?.description, "/nonexistent/mediamtx.yml: no such file")
        }
    }

    /// Through the planner and the renderers: provenance in the table, the JSON and the nft
    /// element comments; loopback left closed; one address only.
    func testThePlanCitesTheConfigurationEverywhere() throws {
        let path = ConfigFixtures.path("mediamtx/mediamtx.yml")
        let config = try ServerConfigs.read(path: path, kind: nil, files: DiskConfigFiles())
        let base = try XCTUnwrap(try? ProfileCatalog(directories: []).load("mediamtx").get().0)
        let plan = Planner.plan(PlanRequest(profiles: [ServerConfigs.profile(config, base: base)]))
        let table = PlanTable.render(plan)
        XCTAssertTrue(table.contains("mediamtx/rtmp mediamtx.yml:19 rtmpAddress: 0.0.0.0:1936"), table)
        XCTAssertTrue(
            table.contains("8888/tcp mediamtx/hls: listens on 127.0.0.1 only (mediamtx.yml:24 hlsAddress: 127.0.0.1:8888)"), table)
        XCTAssertTrue(table.contains("mediamtx/srt: disabled (mediamtx.yml:31 srt: no)"), table)
        let nft = NftTextRenderer.render(RulesetBuilder.standalone(plan))
        XCTAssertTrue(nft.contains(#"tcp . 1936 comment "mediamtx/rtmp mediamtx.yml:19 rtmpAddress: 0.0.0.0:1936""#), nft)
        XCTAssertTrue(nft.contains("ip daddr 192.0.2.10 meta l4proto . th dport @world_to1_ports counter accept"), nft)
        XCTAssertFalse(nft.contains("8888"), "a loopback-only listener gets no opening")
        let json = PlanJSON.render(plan)
        let rtmp = json["openings"]?.array?.first { $0["ports"]?.string == "1936" }
        XCTAssertEqual(rtmp?["provenance"]?.array?.first?["citation"]?.string, "mediamtx.yml:19 rtmpAddress: 0.0.0.0:1936")
        let webrtc = json["openings"]?.array?.first { $0["ports"]?.string == "8889" }
        XCTAssertEqual(webrtc?["destination"]?.string, "192.0.2.10")
        XCTAssertEqual(json["profiles"]?.array?.first?["configuration"]?["kind"]?.string, "mediamtx")
        XCTAssertEqual(PlanFormat.ufw.unsupported(plan)?.hasPrefix("ufw cannot limit an opening to one local address"), true)
        XCTAssertTrue(IptablesExport.render(plan, family: .ipv4).contains("-d 192.0.2.10 -p tcp -m tcp --dport 8889"))
        // Read back, as status and doctor do.
        let entries = PlanJSON.entries(from: json)
        XCTAssertEqual(entries.first { $0.range.low.value == 8889 }?.destination, try CIDR(parsing: "192.0.2.10"))
    }

    func testTheKindIsRecognisedFromTheFile() {
        XCTAssertEqual(ServerConfigs.detect(path: "/x/any.yml", text: "rtspAddress: :8554\n"), .mediamtx)
        XCTAssertEqual(ServerConfigs.detect(path: "/etc/mediamtx.yml", text: "# empty\n"), .mediamtx)
        XCTAssertEqual(ServerConfigs.detect(path: "/x/a.xml", text: "<icecast>\n<listen-socket>"), .icecast)
        XCTAssertEqual(ServerConfigs.detect(path: "/x/a.xml", text: "<?xml version=\"1.0\"?>\n<CONFIGURATION>\n<SERVER>"), .dss)
        XCTAssertEqual(ServerConfigs.detect(path: "/x/a.xml", text: "<Root version=\"2\">\n<VHost>"), .wowza)
        XCTAssertEqual(ServerConfigs.detect(path: "/x/a.conf", text: "events {}\nrtmp {\n server { listen 1935; }\n}"), .nginxRTMP)
        XCTAssertEqual(ServerConfigs.detect(path: "/x/a.conf", text: "listen 1935;\nhttp_api {\n enabled on;\n}"), .srs)
        XCTAssertNil(ServerConfigs.detect(path: "/x/notes.txt", text: "hello\n"))
        XCTAssertThrowsError(
            try ServerConfigs.read(
                path: "/x/icecast.xml", kind: .mediamtx, files: MemoryConfigFiles(["/x/icecast.xml": "<icecast></icecast>"]))
        ) {
            XCTAssertEqual(
                ($0 as? ConfigError)?.message,
                "looks like a configuration of icecast2, not of mediamtx; name the icecast2 profile, or leave the profile out")
        }
    }

    /// "\r\n" is one Character in Swift: a CRLF file must still be split into lines, for
    /// citations and for recognising the kind.
    func testACRLFFileIsCitedLineByLine() throws {
        let text = "# written on Windows\r\nrtspAddress: :8554\r\nrtmpAddress: :1936\r\nhls: no\r\n"
        let config = try read(text)
        XCTAssertEqual(config.listener("rtmp")?.citation.description, "mediamtx.yml:3 rtmpAddress: :1936")
        XCTAssertEqual(config.closedItem("hls")?.citation.description, "mediamtx.yml:4 hls: no")
        XCTAssertEqual(ServerConfigs.detect(path: "/x/any.yml", text: text), .mediamtx)
    }

    /// A value on the line after its key is cited at the key.
    func testTheKeysLineIsCitedNotTheValues() throws {
        let config = try read("rtspAddress: :8554\nrtmpAddress:\n  :1940\nrtspTransports:\n  - tcp\n")
        XCTAssertEqual(config.listener("rtmp")?.citation.description, "mediamtx.yml:2 rtmpAddress:")
        XCTAssertEqual(config.listener("rtmp")?.portsText, "1940/tcp")
        XCTAssertEqual(config.closedItem("rtp")?.citation.line, 4)
    }

    /// Addresses are judged by value, not by spelling.
    func testWildcardAndMappedAddressesByValue() throws {
        let config = try read(
            "rtspAddress: \"[::0]:8554\"\nrtmpAddress: \"[0:0::0]:1935\"\nhlsAddress: \"[::ffff:127.0.0.1]:8888\"\nwebrtcAddress: \"[::ffff:192.0.2.7]:8889\"\n"
        )
        XCTAssertEqual(config.listener("rtsp")?.bind, .any)
        XCTAssertEqual(config.listener("rtmp")?.bind, .any)
        XCTAssertEqual(config.listener("hls")?.bind, .loopback("::ffff:127.0.0.1"))
        XCTAssertEqual(config.listener("webrtc-http")?.bind, .address(try CIDR(parsing: "192.0.2.7")))
    }

    /// An opening bound to an IPv6 address for admins who are all IPv4 has no rule: the plan says so.
    func testABoundOpeningNoSourceCanReachIsAWarning() throws {
        let config = try read("api: yes\napiAddress: \"[2001:db8::1]:9997\"\n")
        let base = try XCTUnwrap(try? ProfileCatalog(directories: []).load("mediamtx").get().0)
        let plan = Planner.plan(
            PlanRequest(profiles: [ServerConfigs.profile(config, base: base)], sourceSets: ["admins": [try CIDR(parsing: "10.0.0.0/8")]]))
        XCTAssertTrue(
            plan.warnings.contains {
                $0.message.contains("9997/tcp (mediamtx/api) listens on 2001:db8::1 only, but no member of admins is IPv6")
            },
            "\(plan.warnings)")
    }
}
