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

final class ModelTests: XCTestCase {
    func testPortAcceptsTheWholeRange() throws {
        XCTAssertEqual(try PortNumber(parsing: "1").value, 1)
        XCTAssertEqual(try PortNumber(parsing: "65535").value, 65535)
        XCTAssertEqual(try PortNumber(parsing: " 554 ").value, 554)
    }

    func testPortRefusesWhatIsNotAPort() {
        XCTAssertThrowsError(try PortNumber(parsing: "0")) { XCTAssertEqual($0 as? ModelError, .portOutOfRange("0")) }
        XCTAssertThrowsError(try PortNumber(parsing: "65536")) { XCTAssertEqual($0 as? ModelError, .portOutOfRange("65536")) }
        XCTAssertThrowsError(try PortNumber(parsing: "-1")) { XCTAssertEqual($0 as? ModelError, .portOutOfRange("-1")) }
        XCTAssertThrowsError(try PortNumber(parsing: "abc")) { XCTAssertEqual($0 as? ModelError, .notAPort("abc")) }
        XCTAssertThrowsError(try PortNumber(parsing: "0x50")) { XCTAssertEqual($0 as? ModelError, .notAPort("0x50")) }
        XCTAssertThrowsError(try PortNumber(parsing: "99999999999999999999")) {
            XCTAssertEqual($0 as? ModelError, .portOutOfRange("99999999999999999999"))
        }
        XCTAssertThrowsError(try PortNumber(0))
    }

    func testTheSeedTypoGetsItsOwnExplanation() {
        XCTAssertThrowsError(try PortRange(parsing: "10000-65635")) { error in
            XCTAssertEqual(
                (error as? ModelError)?.description,
                "port 65635 is out of range (1-65535); the seed document's \"10000-65635\" is a typo for 65535")
        }
    }

    func testRangesParseAndRefuseReversal() throws {
        let range = try PortRange(parsing: "6970-6999")
        XCTAssertEqual(range.count, 30)
        XCTAssertEqual(range.description, "6970-6999")
        XCTAssertEqual(try PortRange(parsing: "554").description, "554")
        XCTAssertThrowsError(try PortRange(parsing: "6999-6970")) { error in
            XCTAssertEqual((error as? ModelError)?.description, "port range '6999-6970' is reversed; write it low-high, as 6970-6999")
        }
        XCTAssertThrowsError(try PortRange(try PortNumber(10), try PortNumber(9)))
    }

    func testRangeTouchingAndOverlap() throws {
        let a = try PortRange(parsing: "10-20")
        let b = try PortRange(parsing: "21-30")
        let c = try PortRange(parsing: "22-30")
        XCTAssertTrue(a.touches(b))
        XCTAssertFalse(a.overlaps(b))
        XCTAssertFalse(a.touches(c))
        XCTAssertTrue(try PortRange(parsing: "15-25").overlaps(a))
    }

    func testPortSpecNeedsAKnownTransport() throws {
        XCTAssertEqual(try PortSpec(parsing: "554/tcp").description, "554/tcp")
        XCTAssertEqual(try PortSpec(parsing: "6970-6999/UDP").description, "6970-6999/udp")
        XCTAssertThrowsError(try PortSpec(parsing: "554/sctp")) { XCTAssertEqual($0 as? ModelError, .unknownTransport("sctp")) }
        XCTAssertThrowsError(try PortSpec(parsing: "554")) { XCTAssertEqual($0 as? ModelError, .missingTransport("554")) }
        XCTAssertThrowsError(try PortSpec(parsing: "0/tcp")) { XCTAssertEqual($0 as? ModelError, .portOutOfRange("0")) }
    }

    func testCIDRParsing() throws {
        XCTAssertEqual(try CIDR(parsing: "192.0.2.0/24").description, "192.0.2.0/24")
        XCTAssertEqual(try CIDR(parsing: "198.51.100.7").description, "198.51.100.7")
        XCTAssertEqual(try CIDR(parsing: "2001:DB8::/32").description, "2001:db8::/32")
        XCTAssertEqual(try CIDR(parsing: "::1").family, .ipv6)
        XCTAssertThrowsError(try CIDR(parsing: "300.1.1.1")) { XCTAssertEqual($0 as? ModelError, .notAnAddress("300.1.1.1")) }
        XCTAssertThrowsError(try CIDR(parsing: "192.0.2.0/33")) {
            XCTAssertEqual($0 as? ModelError, .badPrefixLength("192.0.2.0/33", max: 32))
        }
        XCTAssertThrowsError(try CIDR(parsing: "192.0.2.1/24")) {
            XCTAssertEqual($0 as? ModelError, .hostBitsSet("192.0.2.1/24", network: "192.0.2.0/24"))
        }
        XCTAssertThrowsError(try CIDR(parsing: "example.org"))
        XCTAssertTrue(try CIDR(parsing: "10.0.0.0/8").contains(try CIDR(parsing: "10.1.2.0/24")))
        XCTAssertFalse(try CIDR(parsing: "10.1.2.0/24").contains(try CIDR(parsing: "10.0.0.0/8")))
    }

    func testNamesKeepToASafeAlphabet() {
        XCTAssertTrue(Names.isProfileName("nginx-rtmp"))
        XCTAssertTrue(Names.isProfileName("3gpp"))
        XCTAssertFalse(Names.isProfileName("Dss"))
        XCTAssertFalse(Names.isProfileName("a;b"))
        XCTAssertFalse(Names.isProfileName(String(repeating: "a", count: 33)))
        XCTAssertTrue(Names.isIdentifier("rtsp-http"))
        XCTAssertFalse(Names.isIdentifier("1rtsp"))
        XCTAssertFalse(Names.isIdentifier("rtsp\"x"))
    }

    func testJSONEscapesEverythingItMust() {
        let value = JSONValue.object([("a\"b", .string("line\nnext \\ \u{01}")), ("n", .array([.int(1), .bool(true), .null]))])
        XCTAssertEqual(value.compact, #"{"a\"b":"line\nnext \\ \u0001","n":[1,true,null]}"#)
    }

    func testSuggestionsFindTypos() {
        XCTAssertEqual(Suggestion.closest(to: "prots", in: ProfileDecoder.openingKeys), "ports")
        XCTAssertEqual(Suggestion.closest(to: "purpsoe", in: ProfileDecoder.openingKeys), "purpose")
        XCTAssertNil(Suggestion.closest(to: "zzzzzz", in: ProfileDecoder.openingKeys))
    }
}
