import NIOSSL
import XCTest

@testable import streamd

final class TLSTests: XCTestCase {
    func testSelfSignedCertificateLoadsAndNamesItself() throws {
        let (certificate, key) = try TLSSetup.makeSelfSigned()
        XCTAssertTrue(certificate.hasPrefix("-----BEGIN CERTIFICATE-----"))
        XCTAssertTrue(key.contains("PRIVATE KEY-----"))
        let parsed = try NIOSSLCertificate(bytes: Array(certificate.utf8), format: .pem)
        XCTAssertNotNil(try parsed.extractPublicKey())
        let (_, selfSigned) = try TLSSetup.context(certificate: nil, key: nil)
        XCTAssertTrue(selfSigned)
    }

    func testTheAdminsCertificateIsUsedAndHalfAPairIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("streamd-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (certificate, key) = try TLSSetup.makeSelfSigned()
        try certificate.write(to: directory.appendingPathComponent("cert.pem"), atomically: true, encoding: .utf8)
        try key.write(to: directory.appendingPathComponent("key.pem"), atomically: true, encoding: .utf8)
        let (_, selfSigned) = try TLSSetup.context(
            certificate: directory.appendingPathComponent("cert.pem").path, key: directory.appendingPathComponent("key.pem").path)
        XCTAssertFalse(selfSigned)
        XCTAssertThrowsError(try TLSSetup.context(certificate: directory.appendingPathComponent("cert.pem").path, key: nil)) { error in
            XCTAssertEqual("\(error)", "--tls-cert and --tls-key go together")
        }
        XCTAssertThrowsError(try TLSSetup.context(certificate: "/nonexistent.pem", key: "/nonexistent.key"))
    }
}
