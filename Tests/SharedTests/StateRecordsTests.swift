import CommandSupport
import Foundation
import PortModel
import XCTest

@testable import FirewallState

/// The hand-written readers and writers of the state that replaced Foundation's for speed (issue
/// 13): each gives what the Foundation one gave.
final class StateRecordsTests: XCTestCase {
    func testTimestampsAreWhatTheISO8601FormatStyleWrites() {
        let moments: [Double] = [0, 1, 59.999, 951_782_400, 1_764_646_200.25, 1_798_761_599, 4_102_444_800, 253_402_300_799]
        for seconds in moments {
            let date = Date(timeIntervalSince1970: seconds)
            XCTAssertEqual(StateStore.timestamp(date), Date.ISO8601FormatStyle().format(date), "\(seconds)")
        }
        XCTAssertEqual(StateStore.timestamp(Date(timeIntervalSince1970: 1_764_646_200)), "2025-12-02T03:30:00Z")
    }

    func testRandomIDsAreVersionFourUUIDsAndDiffer() {
        let ids = (0..<200).map { _ in StateStore.randomID() }
        XCTAssertEqual(Set(ids).count, ids.count)
        for id in ids {
            let uuid = UUID(uuidString: id)
            XCTAssertNotNil(uuid, id)
            XCTAssertEqual(uuid?.uuidString, id, "upper case, as UUID().uuidString")
            let characters = Array(id)
            XCTAssertEqual(characters[14], "4", "version 4: \(id)")
            XCTAssertTrue("89AB".contains(characters[19]), "RFC 4122 variant: \(id)")
        }
    }

    func meta(fingerprint: String = "[{\"table\":{\"name\":\"portctl\"}}]", digest: String? = "abc", mark: String? = "boot 7 12")
        -> StateStore.Meta
    {
        StateStore.Meta(
            generation: 4, time: "2026-12-02T03:30:00Z", placement: "standalone inet portctl", profiles: ["dss", "rtmp"],
            options: ["port80"], command: ["portctl", "apply", "dss", "--admin-from", "192.0.2.0/24"], forced: true, persist: false,
            previous: 3, fingerprint: fingerprint, declarationDigest: digest, kernelMark: mark)
    }

    /// The byte parser's Meta is JSONDecoder's, for what portctl writes and for what it might find.
    func testMetaReadsAsJSONDecoderReadsIt() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        for record in [meta(), meta(fingerprint: "", digest: nil, mark: nil), meta(fingerprint: "quote \" slash \\ line\n é")] {
            let text = String(decoding: try encoder.encode(record), as: UTF8.self)
            let decoded = try JSONDecoder().decode(StateStore.Meta.self, from: Data(text.utf8))
            XCTAssertEqual(StateStore.Meta(json: try JSONValue.parse(text)), decoded)
            XCTAssertEqual(decoded, record)
        }
        // Optional keys absent or null; a required key missing or of another type: no record.
        let base =
            #""generation": 2, "time": "t", "placement": "p", "profiles": ["a"], "options": [], "command": ["c"], "forced": false, "persist": true, "previous": 1, "fingerprint": """#
        for (extra, valid) in [
            ("", true), (#", "kernelMark": null"#, true), (#", "declarationDigest": "d", "unknown": [1]"#, true),
            (#", "kernelMark": 5"#, false),
        ] {
            let text = "{\(base)\(extra)}"
            let decoded = try? JSONDecoder().decode(StateStore.Meta.self, from: Data(text.utf8))
            XCTAssertEqual(StateStore.Meta(json: try JSONValue.parse(text)), decoded, text)
            XCTAssertEqual(decoded != nil, valid, text)
        }
        for broken in [
            #"{"time": "t"}"#, base.replacingOccurrences(of: #""previous": 1"#, with: #""previous": "1""#),
            base.replacingOccurrences(of: #""profiles": ["a"]"#, with: #""profiles": ["a", 1]"#),
            base.replacingOccurrences(of: #""forced": false"#, with: #""forced": 0"#), "[]",
        ] {
            let text = broken.hasPrefix("{") || broken.hasPrefix("[") ? broken : "{\(broken)}"
            XCTAssertNil(try? JSONDecoder().decode(StateStore.Meta.self, from: Data(text.utf8)), text)
            XCTAssertNil(StateStore.Meta(json: try JSONValue.parse(text)), text)
        }
    }

    /// The store reads what it wrote, through the byte parser.
    func testTheStoreReadsBackTheMetaItWrote() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-meta-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = StateStore(directory: directory)
        try store.prepare()
        let record = meta()
        _ = try store.addGeneration(
            meta: StateStore.Meta(
                generation: 1, time: record.time, placement: record.placement, profiles: record.profiles, options: record.options,
                command: record.command, forced: record.forced, persist: record.persist, previous: 0, fingerprint: record.fingerprint,
                declarationDigest: record.declarationDigest, kernelMark: record.kernelMark),
            declaration: [], rulesetText: "", planJSON: "{}", replaced: nil, durable: false)
        XCTAssertEqual(store.meta(1)?.profiles, ["dss", "rtmp"])
        XCTAssertEqual(store.meta(1)?.kernelMark, "boot 7 12")
        try store.makeDurable(generation: 1)
    }

    /// The environment read from `environ` is ProcessInfo's.
    func testTheEnvironmentIsProcessInfos() {
        XCTAssertEqual(CommandContext.processEnvironment(), ProcessInfo.processInfo.environment)
    }
}
