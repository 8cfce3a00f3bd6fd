import XCTest

@testable import PortModel
@testable import PortProfiles

/// The nginx configuration Debian installs (nginx with libnginx-mod-rtmp), read as it is on this
/// machine: includes through symbolic links in modules-enabled and sites-enabled, globs that
/// match nothing (conf.d), and the default site's http listens.
final class DebianNginxConfigTests: XCTestCase {
    func testDebiansNginxConfIsReadWithItsIncludes() throws {
        let path = "/etc/nginx/nginx.conf"
        guard FileManager.default.isReadableFile(atPath: path),
            FileManager.default.fileExists(atPath: "/etc/nginx/modules-enabled/50-mod-rtmp.conf")
        else {
            throw XCTSkip("Debian's nginx with libnginx-mod-rtmp is not installed (scripts/install-deps --test installs it)")
        }
        let config = try ServerConfigs.read(path: path, kind: nil, files: DiskConfigFiles())
        XCTAssertEqual(config.kind, .nginxRTMP, "recognised from the file")
        XCTAssertEqual(config.files.first, path)
        XCTAssertTrue(config.files.contains("/etc/nginx/modules-enabled/50-mod-rtmp.conf"), "\(config.files)")
        XCTAssertTrue(config.files.contains("/etc/nginx/sites-enabled/default"), "\(config.files)")
        // The default site listens on 80 for IPv4 and IPv6: one opening, citing the site's line.
        XCTAssertEqual(config.listeners.map(\.id), ["http"])
        XCTAssertEqual(config.listener("http")?.portsText, "80/tcp")
        XCTAssertEqual(config.listener("http")?.bind, .any)
        XCTAssertEqual(config.listener("http")?.citation.fileName, "default")
        XCTAssertEqual(config.listener("http")?.citation.text, "listen 80 default_server;")
        // Debian's nginx.conf has no rtmp { } block: nginx-rtmp listens nowhere.
        XCTAssertEqual(config.closedItem("rtmp")?.reason, "no rtmp block")
    }
}
