import Crypto
import Foundation
import TestSupport
import XCTest
@testable import Shared

final class KnockTests: XCTestCase {
    let key = SymmetricKey(data: Array("portctl-test-key".utf8))
    let request = Knock.Request(port: 6970, nonce: Array(0..<16))

    func hex(_ bytes: [UInt8]) -> String { bytes.map(hexByte).joined() }

    func testRequestGoldenBytes() {
        XCTAssertEqual(hex(request.bytes), "50434b3101001b3a" + "000102030405060708090a0b0c0d0e0f" + String(repeating: "00", count: 32))
        XCTAssertEqual(request.bytes.count, Knock.size)
        XCTAssertEqual(Knock.Request(bytes: request.bytes), request)
    }

    func testReplyGoldenBytes() throws {
        let reply = Knock.reply(to: request, key: key)
        let head = "50434b3102001b3a" + "000102030405060708090a0b0c0d0e0f"
        XCTAssertEqual(hex(reply), head + "4d98fd390bc9f1956a5d349de4d26416beccd0861ed05003a57ef805c497caa1")
        // The HMAC agrees with an independent implementation, Python's hmac module, when present.
        if let python = SystemTestGate.find("python3") {
            let result = try runProcess(python, ["-c", "import hmac,hashlib; print(hmac.new(b'portctl-test-key', bytes.fromhex('\(head)'), hashlib.sha256).hexdigest())"])
            XCTAssertEqual(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), String(hex(reply).dropFirst(48)))
        }
        XCTAssertTrue(Knock.verify(reply: reply, for: request, key: key))
    }

    func testAReplyIsNeverLargerThanItsRequest() {
        for port in [UInt16(1), 554, 6970, 65535] {
            let knock = Knock.Request.random(port: port)
            XCTAssertLessThanOrEqual(Knock.reply(to: knock, key: key).count, knock.bytes.count)
        }
    }

    func testWrongKeyNonceOrPortIsRejected() {
        let reply = Knock.reply(to: request, key: key)
        XCTAssertFalse(Knock.verify(reply: reply, for: request, key: SymmetricKey(data: Array("another-key".utf8))))
        XCTAssertFalse(Knock.verify(reply: reply, for: Knock.Request(port: 6971, nonce: request.nonce), key: key))
        XCTAssertFalse(Knock.verify(reply: reply, for: Knock.Request(port: 6970, nonce: Array(repeating: 7, count: 16)), key: key))
        var tampered = reply
        tampered[55] ^= 1
        XCTAssertFalse(Knock.verify(reply: tampered, for: request, key: key))
        XCTAssertFalse(Knock.verify(reply: Array(reply.prefix(40)), for: request, key: key))
    }

    func testMalformedRequestsAreNotRequests() {
        var bytes = request.bytes
        XCTAssertNil(Knock.Request(bytes: Array(bytes.prefix(55))), "short")
        XCTAssertNil(Knock.Request(bytes: bytes + [0]), "long")
        XCTAssertNil(Knock.Request(bytes: []), "empty, as nmap sends")
        bytes[0] = 0x51
        XCTAssertNil(Knock.Request(bytes: bytes), "bad magic")
        bytes = request.bytes
        bytes[4] = Knock.replyType
        XCTAssertNil(Knock.Request(bytes: bytes), "a reply is not a request")
        bytes = request.bytes
        bytes[40] = 1
        XCTAssertNil(Knock.Request(bytes: bytes), "padding must be zero")
    }

    func testRateLimitHoldsUnderABurst() {
        var limiter = KnockRateLimiter(perSecond: 50, burst: 100)
        let allowed = (0..<1000).filter { _ in limiter.allow("198.51.100.7", now: 10.0) }.count
        XCTAssertEqual(allowed, 100, "a burst gets exactly the bucket")
        XCTAssertTrue(limiter.allow("203.0.113.9", now: 10.0), "other sources keep their own bucket")
        XCTAssertFalse(limiter.allow("198.51.100.7", now: 10.01))
        XCTAssertTrue(limiter.allow("198.51.100.7", now: 10.1), "refilled at 50 per second")
        var small = KnockRateLimiter(perSecond: 1, burst: 1, maxSources: 4)
        for source in 0..<10 { XCTAssertTrue(small.allow("192.0.2.\(source)", now: 0)) }
    }

    func testKeyFileText() {
        XCTAssertNil(Knock.key(fromFileText: "  \n"))
        XCTAssertEqual(Knock.randomKeyText().count, 64)
        let fromFile = Knock.key(fromFileText: "portctl-test-key\n")!
        XCTAssertTrue(Knock.verify(reply: Knock.reply(to: request, key: key), for: request, key: fromFile))
    }
}
