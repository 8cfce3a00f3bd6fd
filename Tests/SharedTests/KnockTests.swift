import Crypto
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
            let result = try runProcess(
                python,
                ["-c", "import hmac,hashlib; print(hmac.new(b'portctl-test-key', bytes.fromhex('\(head)'), hashlib.sha256).hexdigest())"])
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

    func testTheDefaultLimitNeverDropsBackToBackProbes() {
        // A DSS probe knocks 40 ports (30 media, 10 of the broadcast range) in a few milliseconds;
        // run after run, 30 ms apart, as a CI loop or a benchmark runs them (issue 11 item 13).
        var limiter = KnockRateLimiter()
        var dropped = 0
        for run in 0..<40 {
            for _ in 0..<40 where !limiter.allow("192.0.2.2", now: 100 + Double(run) * 0.030) { dropped += 1 }
        }
        XCTAssertEqual(dropped, 0, "40 runs back to back: no first knock is lost to the rate limit")
        // Still a limit: a flood from one (possibly forged) source gets at most the bucket and its refill.
        var flood = KnockRateLimiter()
        let answered = (0..<100_000).filter { flood.allow("198.51.100.7", now: 200 + Double($0) / 100_000) }.count
        XCTAssertLessThanOrEqual(
            answered, Int(flood.burst + flood.perSecond) + 1, "a second of flood gets the bucket and a second's refill")
    }

    func testKeyFileText() {
        XCTAssertNil(Knock.key(fromFileText: "  \n"))
        XCTAssertEqual(Knock.randomKeyText().count, 64)
        let fromFile = Knock.key(fromFileText: "portctl-test-key\n")!
        XCTAssertTrue(Knock.verify(reply: Knock.reply(to: request, key: key), for: request, key: fromFile))
    }

    func testRandomBytesAreFreshAndOfTheLengthAsked() {
        XCTAssertEqual(RandomBytes.make(0), [])
        XCTAssertEqual(RandomBytes.make(1528).count, 1528)
        // 16 random bytes repeat, or come out all zero, with a chance of 2^-128.
        let nonces = (0..<64).map { _ in Knock.Request.random(port: 554).nonce }
        XCTAssertEqual(Set(nonces).count, nonces.count)
        XCTAssertFalse(nonces.contains([UInt8](repeating: 0, count: Knock.nonceSize)))
        // Every byte value turns up in 64 KiB (each is missed with a chance of about e^-256).
        XCTAssertEqual(Set(RandomBytes.make(65536)).count, 256)
        XCTAssertNotEqual(Knock.randomKeyText(), Knock.randomKeyText())
    }

    // MARK: key files (issue 11 item 9)

    /// A key file in a fresh folder, with the given bytes and mode.
    func keyFile(_ bytes: [UInt8], mode: mode_t = 0o600) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("knock-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("knock.key").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        XCTAssertEqual(chmod(path, mode), 0)
        return path
    }

    func verifies(_ loaded: KnockKey.Loaded, as bytes: [UInt8]) -> Bool {
        Knock.verify(reply: Knock.reply(to: request, key: SymmetricKey(data: bytes)), for: request, key: loaded.key.key)
    }

    func testAKeyFileOfRandomBytesIsTakenAsItIs() throws {
        // As `head -c 32 /dev/urandom` makes it, with bytes that look like whitespace at both ends.
        var random: [UInt8] = [0x0A, 0x00, 0xFF] + (0..<26).map { _ in UInt8.random(in: 0...255) } + [0x80, 0x20, 0x0A]
        random[5] = 0x01
        let loaded = try KnockKey.load(path: try keyFile(random))
        XCTAssertEqual(loaded.form, .binary)
        XCTAssertEqual(loaded.size, 32, "nothing trimmed")
        XCTAssertTrue(verifies(loaded, as: random))
        XCTAssertEqual(loaded.warnings, [])
    }

    func testHexTextAndTextWithANewlineKeepTheirMeaning() throws {
        // `openssl rand -hex 32`: 64 hex characters and a newline; the key is the text, not decoded.
        let hex = Knock.randomKeyText()
        let fromHex = try KnockKey.load(path: try keyFile(Array((hex + "\n").utf8)))
        XCTAssertEqual(fromHex.form, .text)
        XCTAssertEqual(fromHex.size, 64)
        XCTAssertTrue(verifies(fromHex, as: Array(hex.utf8)))
        // Existing key files: surrounding whitespace (CR LF too) is not part of the key.
        let text = try KnockKey.load(path: try keyFile(Array("  portctl-test-key\r\n".utf8)))
        XCTAssertEqual(text.form, .text)
        XCTAssertTrue(verifies(text, as: Array("portctl-test-key".utf8)))
        XCTAssertTrue(Knock.verify(reply: Knock.reply(to: request, key: key), for: request, key: text.key.key), "the same key as before")
        XCTAssertEqual(text.warnings, [])
        let unicode = try KnockKey.load(path: try keyFile(Array("clé secrète très longue\n".utf8)))
        XCTAssertEqual(unicode.form, .text)
        XCTAssertTrue(verifies(unicode, as: Array("clé secrète très longue".utf8)))
    }

    func testEmptyWhitespaceMissingAndOversizedFilesAreRefused() throws {
        func refusal(_ path: String) -> String {
            do {
                _ = try KnockKey.load(path: path)
                return "accepted"
            } catch { return error.description }
        }
        let empty = try keyFile([])
        XCTAssertEqual(refusal(empty), "'\(empty)' is empty; make one with: head -c 32 /dev/urandom > \(empty)")
        let blank = try keyFile(Array(" \n\t\r\n".utf8))
        XCTAssertEqual(refusal(blank), "'\(blank)' holds only whitespace; make one with: head -c 32 /dev/urandom > \(blank)")
        XCTAssertEqual(refusal("/nonexistent/knock.key"), "cannot read '/nonexistent/knock.key': No such file or directory")
        let folder = (empty as NSString).deletingLastPathComponent
        XCTAssertEqual(refusal(folder), "'\(folder)' is not a regular file: give the file that holds the key")
        let huge = try keyFile([UInt8](repeating: 0x41, count: KnockKey.maxFileSize + 1))
        XCTAssertEqual(refusal(huge), "'\(huge)' is 65537 bytes, over the 64 KiB a key file may hold: is it the key?")
        let long = "/" + String(repeating: "k", count: 200)
        XCTAssertEqual(refusal(long), "cannot read '/\(String(repeating: "k", count: 79))...': No such file or directory")
    }

    func testAShortKeyAndAFileOthersMayReadAreWarnedAbout() throws {
        let short = try keyFile(Array("hunter2\n".utf8))
        let loaded = try KnockKey.load(path: short)
        XCTAssertEqual(loaded.size, 7)
        XCTAssertEqual(
            loaded.warnings, ["the key in '\(short)' is 7 bytes; use at least 16 (make one with: head -c 32 /dev/urandom > \(short))"])
        XCTAssertTrue(verifies(loaded, as: Array("hunter2".utf8)), "a short key still works")
        let shared = try keyFile(Array(Knock.randomKeyText().utf8), mode: 0o644)
        XCTAssertEqual(
            try KnockKey.load(path: shared).warnings,
            [
                "'\(shared)' is readable by its group or others (mode 0644): anyone who reads it can forge streamd's replies; chmod 600 \(shared)"
            ])
        XCTAssertEqual(
            try KnockKey.load(path: try keyFile(Array(Knock.randomKeyText().utf8), mode: 0o640)).warnings.count, 1, "group-readable")
        XCTAssertEqual(try KnockKey.load(path: try keyFile(Array(Knock.randomKeyText().utf8), mode: 0o400)).warnings, [])
    }

    func testTheManPagesPythonReadsEveryKeyFileAsTheLoaderDoes() throws {
        guard let python = SystemTestGate.find("python3") else { throw XCTSkip("python3 is not installed") }
        let script = """
            import sys
            raw = open(sys.argv[1], "rb").read()
            try:
                text = raw.decode()
                binary = not all(c in " \\t\\r\\n" or c.isprintable() for c in text)
            except UnicodeDecodeError:
                binary = True
            key = raw if binary else text.strip().encode()
            print(key.hex())
            """
        let files: [[UInt8]] = [
            (0..<32).map { _ in UInt8.random(in: 0...255) }, Array((Knock.randomKeyText() + "\n").utf8),
            Array("  portctl-test-key\r\n".utf8),
            Array("no\u{A0}break\n".utf8), Array("tab\tinside and é\n".utf8), Array("line\u{2028}separator".utf8), [0x41, 0x00, 0x42],
        ]
        for bytes in files {
            let path = try keyFile(bytes)
            let loaded = try KnockKey.load(path: path).key.key.withUnsafeBytes { Array($0) }
            let result = try runProcess(python, ["-c", script, path])
            XCTAssertEqual(result.stdout, loaded.map(hexByte).joined() + "\n", "\(bytes): \(result.stderr)")
        }
    }
}
