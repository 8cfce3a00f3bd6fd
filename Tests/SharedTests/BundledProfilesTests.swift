import Foundation
import TestSupport
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

final class BundledProfilesTests: XCTestCase {
    /// The compiled-in copies must match profiles/: scripts/gen-bundled-profiles regenerates them.
    func testBundledCopiesMatchTheProfilesDirectory() throws {
        let directory = TestPaths.repository.appendingPathComponent("profiles")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertEqual(files.map { String($0.dropLast(5)) }, BundledProfiles.files.map(\.name), "run scripts/gen-bundled-profiles")
        for (name, text) in BundledProfiles.files {
            let onDisk = try String(contentsOf: directory.appendingPathComponent("\(name).yaml"), encoding: .utf8)
            XCTAssertEqual(onDisk, text + "\n", "\(name).yaml changed; run scripts/gen-bundled-profiles")
        }
    }

    func testEveryBundledProfileIsValidEvenWhenStrict() {
        for (name, text) in BundledProfiles.files {
            let result = ProfileDecoder.decode(text, file: "\(name).yaml", expectedName: name)
            XCTAssertNotNil(result.profile, "\(name): \(result.diagnostics)")
            XCTAssertEqual(result.diagnostics, [], "\(name) has warnings")
            XCTAssertFalse(result.profile?.source.isEmpty ?? true, "\(name) needs a source: line")
        }
    }

    /// The seed's table, exactly: 554 and 7070 TCP (or 80), 6970-6999 UDP, 10000-65535 UDP, 8000 TCP, 1220 TCP.
    func testDSSMatchesTheSeedTable() {
        let dss = Fixtures.bundled("dss")
        let ports = Dictionary(uniqueKeysWithValues: dss.openings.map { ($0.id, $0.ports.map(\.description)) })
        XCTAssertEqual(ports["rtsp"], ["554/tcp", "7070/tcp"])
        XCTAssertEqual(ports["rtsp-http"], ["80/tcp"])
        XCTAssertEqual(ports["media"], ["6970-6999/udp"])
        XCTAssertEqual(ports["broadcast"], ["10000-65535/udp"])
        XCTAssertEqual(ports["mp3"], ["8000/tcp"])
        XCTAssertEqual(ports["admin"], ["1220/tcp"])
        XCTAssertEqual(dss.openings.first { $0.id == "rtsp-http" }?.when, "port80")
        XCTAssertEqual(dss.openings.first { $0.id == "admin" }?.from, .admins)
        XCTAssertEqual(dss.openings.first { $0.id == "broadcast" }?.from, .broadcasters)
    }

    func testSeedSystemsAreAllBundled() {
        let names = Set(BundledProfiles.files.map(\.name))
        for required in ["dss", "rtsp", "rtmp", "rtmpt", "rtmps", "rtmpe", "rtmpte", "mms", "pna", "http-streaming", "shoutcast"] {
            XCTAssertTrue(names.contains(required), required)
        }
        let modern = names.intersection(["mediamtx", "nginx-rtmp", "icecast2", "wowza"])
        XCTAssertGreaterThanOrEqual(modern.count, 3)
    }
}
