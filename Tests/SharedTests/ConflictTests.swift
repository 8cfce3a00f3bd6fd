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

final class ConflictTests: XCTestCase {
    func testClassification() {
        func kind(_ name: String, _ exe: String? = nil, _ args: [String] = [], port: Int = 80) -> ServerKind {
            ServerKind.classify(name: name, executable: exe, commandLine: args, port: port)
        }
        XCTAssertEqual(kind("apache2", "/usr/sbin/apache2"), .webServer("Apache httpd"))
        XCTAssertEqual(kind("httpd"), .webServer("Apache httpd"))
        XCTAssertEqual(kind("nginx", "/usr/sbin/nginx"), .webServer("nginx"))
        XCTAssertEqual(kind("nginx", "/usr/sbin/nginx", port: 1935), .streamingServer("nginx-rtmp"))
        XCTAssertEqual(kind("lighttpd"), .webServer("lighttpd"))
        XCTAssertEqual(kind("caddy"), .webServer("Caddy"))
        XCTAssertEqual(kind("traefik"), .webServer("Traefik"))
        XCTAssertEqual(kind("haproxy"), .webServer("HAProxy"))
        XCTAssertEqual(kind("varnishd"), .webServer("Varnish"))
        XCTAssertEqual(kind("envoy"), .webServer("Envoy"))
        XCTAssertEqual(kind("python3", "/usr/bin/python3.11", ["python3", "-m", "http.server", "80"]), .webServer("python http.server"))
        XCTAssertEqual(kind("node", "/usr/bin/node", ["node", "server.js"]), .webServer("Node.js"))
        XCTAssertEqual(kind("DarwinStreamingSrvr"), .streamingServer("dss"))
        XCTAssertEqual(kind("mediamtx"), .streamingServer("mediamtx"))
        XCTAssertEqual(kind("icecast2"), .streamingServer("icecast"))
        XCTAssertEqual(kind("java", "/usr/bin/java", ["java", "-cp", "/usr/local/WowzaStreamingEngine/lib"]), .streamingServer("wowza"))
        XCTAssertEqual(kind("sshd", "/usr/sbin/sshd"), .other)
        XCTAssertEqual(kind("python3", "/usr/bin/python3", ["python3", "app.py"]), .other)
    }

    func testExpectedKinds() {
        XCTAssertEqual(ServerKind.expectedStreamingKinds(for: ["dss"]), ["dss", "streamd"])
        XCTAssertNil(ServerKind.expectedStreamingKinds(for: ["rtsp"]), "a protocol profile accepts any streaming server")
    }

    /// A fixture root: systemd wants links and web-server configurations, nothing running.
    func makeRoot() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-root-\(UUID().uuidString)")
        func write(_ path: String, _ text: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        func enable(_ unit: String) throws {
            let wants = root.appendingPathComponent("etc/systemd/system/multi-user.target.wants")
            try FileManager.default.createDirectory(at: wants, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                atPath: wants.appendingPathComponent(unit).path, withDestinationPath: "/lib/systemd/system/\(unit)")
        }
        try write("etc/apache2/apache2.conf", "ServerRoot /etc/apache2\nInclude ports.conf\nIncludeOptional sites-enabled/*.conf\n")
        try write("etc/apache2/ports.conf", "# comment\nListen 80\n<IfModule ssl_module>\n\tListen 443\n</IfModule>\n")
        try write("etc/apache2/sites-enabled/000-default.conf", "<VirtualHost *:80>\n</VirtualHost>\nListen 127.0.0.1:8081\n")
        try enable("apache2.service")
        try write("etc/nginx/nginx.conf", "events {}\nhttp {\n    include /etc/nginx/sites-enabled/*;\n}\n")
        try write(
            "etc/nginx/sites-enabled/default",
            "server {\n\tlisten 80 default_server;\n\tlisten [::]:8080 ipv6only=on;\n\tlisten unix:/run/x.sock;\n}\n")
        try enable("nginx.service")
        try write(
            "etc/lighttpd/lighttpd.conf", "server.document-root = \"/var/www\"\nserver.port = 8082\n$SERVER[\"socket\"] == \":8443\" { }\n")
        try enable("lighttpd.service")
        try write(
            "etc/caddy/Caddyfile", "{\n\temail x@example.org\n}\n\nexample.org {\n\troot * /srv\n}\n:9080 {\n}\nhttp://other.example {\n}\n"
        )
        try enable("caddy.service")
        // Enabled for this boot only, under /run.
        try write("etc/haproxy/haproxy.cfg", "frontend f\n    bind *:8090\n")
        let runtime = root.appendingPathComponent("run/systemd/system/multi-user.target.wants")
        try FileManager.default.createDirectory(at: runtime, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: runtime.appendingPathComponent("haproxy.service").path, withDestinationPath: "/lib/systemd/system/haproxy.service")
        // Disabled: configured but in no wants directory.
        try write("etc/traefik/traefik.yml", "entryPoints:\n  web:\n    address: \":80\"\n")
        return root
    }

    func testBootClaimsFromConfigurations() throws {
        let root = try makeRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let boot = BootClaims(root: root.path)
        XCTAssertEqual(boot.enabledUnits, ["apache2.service", "caddy.service", "haproxy.service", "lighttpd.service", "nginx.service"])
        let claims = Set(boot.claims.map { "\($0.unit) \($0.port) \($0.origin)" })
        XCTAssertEqual(
            claims,
            [
                "apache2.service 80 /etc/apache2/ports.conf:2",
                "apache2.service 443 /etc/apache2/ports.conf:4",
                "apache2.service 8081 /etc/apache2/sites-enabled/000-default.conf:3",
                "nginx.service 80 /etc/nginx/sites-enabled/default:2",
                "nginx.service 8080 /etc/nginx/sites-enabled/default:3",
                "lighttpd.service 8082 /etc/lighttpd/lighttpd.conf:2",
                "lighttpd.service 8443 /etc/lighttpd/lighttpd.conf:3",
                "caddy.service 80 /etc/caddy/Caddyfile:5",
                "caddy.service 443 /etc/caddy/Caddyfile:5",
                "caddy.service 9080 /etc/caddy/Caddyfile:8",
                "caddy.service 80 /etc/caddy/Caddyfile:10",
                "haproxy.service 8090 /etc/haproxy/haproxy.cfg:2",
            ])
    }

    func testReportNamesHolderUnitAndBootClaim() throws {
        let root = try makeRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        // A /proc with nginx (pid 4321, nginx.service) listening on 0.0.0.0:554.
        func write(_ path: String, _ text: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try write(
            "proc/net/tcp",
            """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 00000000:022A 00000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 777 1 0 100 0 0 10 0

            """)
        try write("proc/4321/comm", "nginx\n")
        try write("proc/4321/cmdline", "nginx: master process /usr/sbin/nginx\0")
        try write("proc/4321/status", "Name:\tnginx\nUid:\t0\t0\t0\t0\n")
        try write("proc/4321/cgroup", "0::/system.slice/nginx.service\n")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("proc/4321/fd"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("proc/4321/fd/6").path, withDestinationPath: "socket:[777]")
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("proc/4321/exe").path, withDestinationPath: "/usr/sbin/nginx")

        let plan = Planner.plan(PlanRequest(profiles: [Fixtures.bundled("dss")], options: ["port80"]))
        let targets = plan.inboundEntries.map { ($0.spec, $0.labels, $0.contributions.map(\.service)) }
        let report = ConflictReport.check(targets, profiles: ["dss"], root: root.path)
        let rtsp = try XCTUnwrap(report.rows.first { $0.spec.description == "554/tcp" })
        XCTAssertEqual(rtsp.verdict, .held)
        XCTAssertEqual(rtsp.findings, ["held by 4321 /usr/sbin/nginx (nginx.service) on 0.0.0.0:554"])
        XCTAssertEqual(
            rtsp.advice,
            "nginx (pid 4321, nginx.service) holds 554/tcp, which dss/rtsp needs: stop and disable it (systemctl disable --now nginx.service), move it to another port"
        )
        // nginx.service runs, so its boot claim on 80 is not reported again; apache2 is enabled and stopped.
        let http = try XCTUnwrap(report.rows.first { $0.spec.description == "80/tcp" })
        XCTAssertEqual(http.verdict, .claimed)
        XCTAssertEqual(
            http.findings,
            [
                "claimed at boot by apache2.service (/etc/apache2/ports.conf:2)",
                "claimed at boot by caddy.service (/etc/caddy/Caddyfile:5)", "claimed at boot by caddy.service (/etc/caddy/Caddyfile:10)",
            ])
        XCTAssertTrue(http.advice?.contains("or drop --port80 and use 554/7070") ?? false)
        XCTAssertEqual(report.rows.first { $0.spec.description == "7070/tcp" }?.verdict, .free)
        XCTAssertTrue(report.hasConflict)
    }

    func testCaddyAddresses() {
        XCTAssertEqual(BootClaims.caddyPorts("example.org"), [80, 443])
        XCTAssertEqual(BootClaims.caddyPorts(":8080"), [8080])
        XCTAssertEqual(BootClaims.caddyPorts("http://x.example"), [80])
        XCTAssertEqual(BootClaims.caddyPorts("https://x.example:8443/path"), [8443])
    }
}
