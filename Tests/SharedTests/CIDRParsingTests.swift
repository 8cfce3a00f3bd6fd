import Foundation
import PortModel
import XCTest

/// CIDR parsing without inet_pton for IPv4: it accepts and refuses exactly what inet_pton-based
/// parsing did, on random text and on the edge cases, and gives the same networks.
final class CIDRParsingTests: XCTestCase {
    /// The former parser: inet_pton for the address, a byte mask for the host bits.
    func reference(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = trimmed.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let (family, bytes) = CIDR.parseAddress(String(parts[0])) else { return nil }
        var prefix = family.bits
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits),
                value <= family.bits
            else { return nil }
            prefix = value
        }
        for (index, byte) in bytes.enumerated() {
            let keep = max(0, min(8, prefix - index * 8))
            if byte & ~UInt8(truncatingIfNeeded: 0xFF << (8 - keep)) != 0 { return "host bits" }
        }
        return "\(family) \(bytes) \(prefix)"
    }

    func parsed(_ text: String) -> String? {
        do {
            let cidr = try CIDR(parsing: text)
            return "\(cidr.family) \(cidr.bytes) \(cidr.prefix)"
        } catch ModelError.hostBitsSet {
            return "host bits"
        } catch {
            return nil
        }
    }

    func testRandomTextIsTakenExactlyAsInetPtonTookIt() {
        var random = SeededRandom(seed: 7)
        let alphabet = Array("0123456789..../:abf ")
        for _ in 0..<20_000 {
            let text = String((0..<Int.random(in: 0...18, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
            XCTAssertEqual(parsed(text), reference(text), "'\(text)'")
        }
        for _ in 0..<5_000 {
            // Well-formed dotted quads with prefixes, most of them valid.
            let octets = (0..<4).map { _ in String(Int.random(in: 0...300, using: &random)) }.joined(separator: ".")
            let text = octets + (Bool.random(using: &random) ? "/\(Int.random(in: 0...33, using: &random))" : "")
            XCTAssertEqual(parsed(text), reference(text), text)
        }
    }

    func testEdgeCases() throws {
        for text in [
            "0.0.0.0/0", "255.255.255.255", "10.0.0.0/8", " 192.0.2.0/24 ", "2001:db8::/32", "::/0", "::ffff:192.0.2.1", "fe80::1/128",
        ] {
            XCTAssertNotNil(parsed(text), text)
            XCTAssertEqual(parsed(text), reference(text), text)
        }
        for text in [
            "", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.256", "1..2.3", "1.2.3.4/", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4 /8", "a.b.c.d",
        ] {
            XCTAssertNil(parsed(text), text)
            XCTAssertNil(reference(text), text)
        }
        XCTAssertEqual(try CIDR(parsing: "192.0.2.7/32").description, "192.0.2.7")
        XCTAssertEqual(try CIDR(parsing: "10.1.0.0/16").description, "10.1.0.0/16")
        XCTAssertThrowsError(try CIDR(parsing: "10.1.2.3/16")) { error in
            XCTAssertEqual("\(error)".contains("10.1.0.0/16"), true, "\(error)")
        }
        XCTAssertTrue(try CIDR(parsing: "10.0.0.0/8").contains(try CIDR(parsing: "10.200.3.0/24")))
        XCTAssertFalse(try CIDR(parsing: "10.0.0.0/8").contains(try CIDR(parsing: "11.0.0.0/24")))
        XCTAssertTrue(try CIDR(parsing: "2001:db8::/32").contains(try CIDR(parsing: "2001:db8:ffff::1")))
        XCTAssertFalse(try CIDR(parsing: "2001:db8::/33").contains(try CIDR(parsing: "2001:db8:ffff::1")))
        XCTAssertTrue(try CIDR(parsing: "::/0").contains(try CIDR(parsing: "2001:db8::1")))
        XCTAssertLessThan(try CIDR(parsing: "9.255.255.255"), try CIDR(parsing: "10.0.0.0"))
    }
}
