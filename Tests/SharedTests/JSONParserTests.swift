import Foundation
import PortModel
import XCTest

/// `JSONValue.parse`, the one-pass parser that reads libnftables listings and the state files:
/// random documents round-trip, Foundation's JSONSerialization agrees on every string, and
/// malformed text is refused with the byte it stopped at.
final class JSONParserTests: XCTestCase {
    func randomString(_ random: inout SeededRandom) -> String {
        let pool: [Unicode.Scalar] = [
            "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{01}", "\u{1F}", "é", "€", "😀", "\u{7F}", "{",
            "]", ":", ",",
        ]
        return String(
            String.UnicodeScalarView((0..<Int.random(in: 0...12, using: &random)).map { _ in pool.randomElement(using: &random)! }))
    }

    func randomValue(_ random: inout SeededRandom, depth: Int) -> JSONValue {
        switch Int.random(in: 0...(depth > 3 ? 3 : 5), using: &random) {
        case 0: return .string(randomString(&random))
        case 1: return .int(Int.random(in: Int.min...Int.max, using: &random) >> Int.random(in: 0...63, using: &random))
        case 2: return Bool.random(using: &random) ? .bool(Bool.random(using: &random)) : .null
        case 3: return .string("")
        case 4: return .array((0..<Int.random(in: 0...4, using: &random)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            let keys = Set((0..<Int.random(in: 0...4, using: &random)).map { _ in randomString(&random) }).sorted()
            return .object(keys.map { ($0, randomValue(&random, depth: depth + 1)) })
        }
    }

    func testRandomDocumentsRoundTripCompactAndPretty() throws {
        var random = SeededRandom(seed: 13)
        for _ in 0..<2_000 {
            let value = randomValue(&random, depth: 0)
            XCTAssertEqual(try JSONValue.parse(value.compact).compact, value.compact)
            XCTAssertEqual(try JSONValue.parse(value.pretty).compact, value.compact)
        }
    }

    func testJSONSerializationAgreesOnEveryString() throws {
        var random = SeededRandom(seed: 14)
        for _ in 0..<2_000 {
            let text = randomString(&random)
            let encoded = String(decoding: try JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed]), as: UTF8.self)
            XCTAssertEqual(try JSONValue.parse(encoded), .array([.string(text)]), encoded)
        }
        // Escapes that encoders rarely write, surrogate pairs included.
        XCTAssertEqual(try JSONValue.parse(#"["\u0041\u00e9\u20ac\ud83d\ude00\/"]"#), .array([.string("Aé€😀/")]))
    }

    /// The digest is fed as the canonical text is produced; it must equal FNV over that text, as
    /// it was computed before, or every stored generation would look changed.
    func testTheStreamedDigestIsTheDigestOfTheCanonicalText() {
        func reference(_ text: String) -> String {
            var first: UInt64 = 0xcbf2_9ce4_8422_2325
            var second: UInt64 = 0x84222325_cbf29ce4
            for byte in text.utf8 {
                first = (first ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
                second = (second &* 0x0000_0100_0000_01B3) ^ UInt64(byte) ^ (second >> 29)
            }
            return String(first, radix: 16) + String(second, radix: 16)
        }
        var random = SeededRandom(seed: 15)
        for _ in 0..<1_000 {
            let value = randomValue(&random, depth: 0)
            XCTAssertEqual(value.digest, reference(value.canonical))
        }
        let unsorted = JSONValue.object([("b", .int(1)), ("a", .string("x\"y"))])
        XCTAssertEqual(unsorted.canonical, #"{"a":"x\"y","b":1}"#)
        XCTAssertEqual(unsorted.digest, reference(unsorted.canonical))
    }

    func testKeysComeBackSortedAndWhitespaceIsAllowedAnywhere() throws {
        let value = try JSONValue.parse(" {\n\t\"b\" : [ 1 , -2 , 0 ] ,\r\n \"a\":{ }, \"c\" : [ ] , \"d\": null } ")
        XCTAssertEqual(value.compact, #"{"a":{},"b":[1,-2,0],"c":[],"d":null}"#)
    }

    func testMalformedTextIsRefusedWithWhereItStopped() {
        let cases = [
            "", " ", "{", "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":}", "{1:2}", "[01]", "[1.5]", "[1e3]", "[-]", "[tru]", "[nul]",
            "\"abc", "\"a\u{01}b\"", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "[1] 2", "[\"\\ud800\\u0041\"]",
            "[99999999999999999999]", String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        ]
        for text in cases {
            XCTAssertThrowsError(try JSONValue.parse(text), text.prefix(40).description) { error in
                XCTAssertTrue("\(error)".hasPrefix("not valid JSON: "), "\(error)")
                XCTAssertTrue("\(error)".contains(" at byte "), "\(error)")
            }
        }
        // Bytes that are not UTF-8 inside a string.
        let invalid = String(decoding: [0x5B, 0x22, 0xFF, 0x22, 0x5D], as: UTF8.self)
        XCTAssertEqual(try? JSONValue.parse(invalid), .array([.string("\u{FFFD}")]), "Swift strings are already valid UTF-8")
    }
}
