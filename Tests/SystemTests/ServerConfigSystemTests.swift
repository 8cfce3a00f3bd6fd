import Foundation
import TestSupport
import XCTest

/// `--config` end to end: real servers listening where their own configuration files say, portctl
/// applying what those files say in the server namespace, and probes from the client namespace.
final class ServerConfigSystemTests: XCTestCase {
    var served: StreamdNamespaces!
    var pair: NamespacePair { served.pair }
    var work: URL { served.work }
    let server = NamespacePair.serverAddress
    var state: String { work.appendingPathComponent("state").path }

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft"]) { throw XCTSkip(reason) }
        served = try StreamdNamespaces(name: "config")
    }

    override func tearDown() {
        served?.destroy()
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = work.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @discardableResult
    func portctl(_ arguments: [String], in namespace: String? = nil) throws -> ProcessResult {
        try pair.run(in: namespace ?? pair.server, [TestPaths.binary("portctl").path] + arguments)
    }

    /// Verdicts and details from the client namespace, by port spec.
    func probe(_ arguments: [String]) throws -> (Int32, [String: (verdict: String, detail: String)]) {
        let result = try portctl(
            ["probe", server] + arguments + ["--key", served.key, "--timeout", "1s", "--format", "json"], in: pair.client)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        var byPort: [String: (String, String)] = [:]
        for item in json?["results"] as? [[String: Any]] ?? [] {
            byPort["\(item["port"]!)/\(item["transport"]!)"] = (item["verdict"] as? String ?? "", item["detail"] as? String ?? "")
        }
        return (result.status, byPort)
    }

    /// Waits (at most 10 s) until something accepts TCP connections on `port` in the server namespace.
    func waitForListener(_ port: Int) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let listening = try pair.run(in: pair.server, ["ss", "-Hltn", "sport = :\(port)"]).stdout
            if !listening.isEmpty { return }
            usleep(100_000)
        }
        XCTFail("nothing listens on \(port) after 10 s")
    }

    /// Debian's nginx with libnginx-mod-rtmp on RTMP port 19350, and Debian's icecast2 on 18000:
    /// both started by hand in the server namespace (never as services), from configuration files
    /// written here. portctl applies exactly what those files say; the moved ports answer in their
    /// protocols from the client namespace, and the default ports are filtered.
    func testRealNginxRTMPAndIcecastOnTheirConfiguredPorts() throws {
        let module = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
        guard let nginx = SystemTestGate.find("nginx"), FileManager.default.fileExists(atPath: module) else {
            throw XCTSkip("nginx with libnginx-mod-rtmp is not installed (scripts/install-deps --test installs it)")
        }
        guard let icecast = SystemTestGate.find("icecast2") else {
            throw XCTSkip("icecast2 is not installed (scripts/install-deps --test installs it)")
        }
        let nginxConf = try write(
            "nginx.conf",
            """
            load_module \(module);
            daemon off;
            master_process off;
            pid \(work.path)/nginx.pid;
            error_log \(work.path)/nginx-error.log;
            events { worker_connections 64; }

            rtmp {
                server {
                    listen 19350;   # moved from 1935
                    application live { live on; }
                }
            }

            """)
        let logs = work.appendingPathComponent("icecast-logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        let icecastXML = try write(
            "icecast.xml",
            """
            <icecast>
                <location>portctl test</location>
                <admin>root@localhost</admin>
                <limits><clients>10</clients><sources>2</sources></limits>
                <authentication>
                    <source-password>test-source</source-password>
                    <relay-password>test-relay</relay-password>
                    <admin-user>admin</admin-user>
                    <admin-password>test-admin</admin-password>
                </authentication>
                <hostname>\(server)</hostname>
                <!-- moved from 8000 -->
                <listen-socket>
                    <port>18000</port>
                </listen-socket>
                <mount type="normal"><mount-name>/radio.mp3</mount-name></mount>
                <fileserve>1</fileserve>
                <paths>
                    <basedir>/usr/share/icecast2</basedir>
                    <logdir>\(logs.path)</logdir>
                    <webroot>/usr/share/icecast2/web</webroot>
                    <adminroot>/usr/share/icecast2/admin</adminroot>
                </paths>
                <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
                <security>
                    <chroot>0</chroot>
                    <changeowner><user>icecast2</user><group>icecast</group></changeowner>
                </security>
            </icecast>

            """)
        _ = try pair.start(in: pair.server, [nginx, "-p", work.path + "/", "-c", nginxConf, "-e", work.path + "/nginx-early.log"])
        _ = try pair.start(in: pair.server, [icecast, "-c", icecastXML])
        try waitForListener(19350)
        try waitForListener(18000)

        let plan = try portctl(["plan", "--config", nginxConf, "--config", icecastXML, "--json"])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        XCTAssertTrue(plan.stdout.contains("nginx.conf:10 listen 19350;"), plan.stdout)
        XCTAssertTrue(plan.stdout.contains("icecast.xml:14 <port>18000</port>"), plan.stdout)

        let apply = try portctl(["apply", "--config", nginxConf, "--config", icecastXML, "-q", "--state-dir", state])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        let ruleset = try pair.run(in: pair.server, ["nft", "list", "table", "inet", "portctl"]).stdout
        XCTAssertTrue(ruleset.contains("tcp . 19350"), ruleset)
        XCTAssertTrue(ruleset.contains("tcp . 18000"), ruleset)
        XCTAssertFalse(ruleset.contains("tcp . 1935 "), "the default RTMP port is not opened")

        let (status, results) = try probe(["--config", nginxConf, "--config", icecastXML])
        XCTAssertEqual(status, 0, "\(results)")
        XCTAssertEqual(results["19350/tcp"]?.verdict, "ok", "\(results)")
        XCTAssertTrue(results["19350/tcp"]?.detail.hasPrefix("RTMP handshake") ?? false, "\(results)")
        XCTAssertEqual(results["18000/tcp"]?.verdict, "ok", "\(results)")
        XCTAssertTrue(results["18000/tcp"]?.detail.contains("GET /radio.mp3") ?? false, "the mount the config names: \(results)")

        let (defaults, closed) = try probe(["--ports", "1935/tcp,8000/tcp"])
        XCTAssertEqual(defaults, 1)
        XCTAssertEqual(closed["1935/tcp"]?.verdict, "filtered", "\(closed)")
        XCTAssertEqual(closed["8000/tcp"]?.verdict, "filtered", "\(closed)")
    }

    /// streamd --config listens on exactly what a MediaMTX configuration names; the probe --config
    /// checks those ports through the applied firewall; then the configuration changes, and doctor
    /// and status say so, citing the line, until apply follows it again.
    func testStreamdProbeAndDriftFollowAMediaMTXConfiguration() throws {
        let config = try write(
            "mediamtx.yml",
            """
            rtspTransports: [udp, tcp]
            rtspAddress: :8555
            rtpAddress: :8100
            rtcpAddress: :8101
            rtmpAddress: :1936
            hls: no
            webrtc: no
            srt: no
            api: yes
            apiAddress: 127.0.0.1:9997
            paths:
              test:

            """)
        // Applied with a relative path, from the file's directory; doctor runs from elsewhere.
        let apply = try pair.run(
            in: pair.server,
            [
                "sh", "-c", "cd \"$1\" && \"$2\" apply --config mediamtx.yml -q --state-dir \"$3\"", "sh", work.path,
                TestPaths.binary("portctl").path, state,
            ])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        try served.startStreamd(["--config", config])
        XCTAssertTrue(served.log.contains("serving"), served.log)

        let (status, results) = try probe(["--config", config])
        XCTAssertEqual(status, 0, "\(results)")
        XCTAssertEqual(Set(results.keys), ["8555/tcp", "8100/udp", "8101/udp", "1936/tcp"], "exactly what the configuration opens")
        XCTAssertEqual(results["8555/tcp"]?.detail, "RTSP/1.0 200 OK; DESCRIBE /test: SDP", "the path the configuration names")
        XCTAssertEqual(results["8100/udp"]?.detail, "open (streamd)")
        XCTAssertTrue(results["1936/tcp"]?.detail.hasPrefix("RTMP handshake") ?? false, "\(results)")

        let doctor = try portctl(["doctor", "--state-dir", state])
        XCTAssertEqual(doctor.status, 0, doctor.stdout + doctor.stderr)
        XCTAssertTrue(doctor.stdout.contains("config: \(config) still say what the live generation opens"), doctor.stdout)

        // The admin moves RTMP in the configuration, and forgets the firewall.
        let moved = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(
            of: "rtmpAddress: :1936", with: "rtmpAddress: :1937")
        try moved.write(toFile: config, atomically: true, encoding: .utf8)
        let drifted = try portctl(["doctor", "--state-dir", state])
        XCTAssertEqual(drifted.status, 1)
        XCTAssertTrue(
            drifted.stdout.contains("mediamtx.yml:5 now says 'rtmpAddress: :1937'; generation 1 opens 1936/tcp for mediamtx/rtmp"),
            drifted.stdout)
        XCTAssertTrue(drifted.stdout.contains("run portctl apply --config \(config)"), drifted.stdout)
        let status1 = try portctl(["status", "--state-dir", state])
        XCTAssertEqual(status1.status, 1)
        XCTAssertTrue(status1.stdout.contains("Configuration drift:"), status1.stdout)
        let statusJSON = try portctl(["status", "--json", "--state-dir", state])
        let findings =
            try (JSONSerialization.jsonObject(with: Data(statusJSON.stdout.utf8)) as? [String: Any])
            .flatMap { $0["config_drift"] as? [String: Any] }?["findings"] as? [String]
        XCTAssertEqual(findings?.count, 1, statusJSON.stdout)

        XCTAssertEqual(try portctl(["apply", "--config", config, "-q", "--state-dir", state]).status, 0)
        XCTAssertEqual(try portctl(["doctor", "--state-dir", state]).status, 0)
        XCTAssertEqual(try portctl(["status", "--state-dir", state]).status, 0)
    }
}
