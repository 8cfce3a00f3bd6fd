import Crypto
import FoundationEssentials
import NIOSSL
import X509
import SwiftASN1

/// TLS for the RTMPS and HTTPS ports: the admin's certificate, or one streamd makes for itself.
///
/// The self-signed certificate (ECDSA P-256, a year's validity, names localhost and the bind
/// address) only lets a probe complete the handshake and see RTMP or HTTP behind it; clients
/// must not verify it. Give a real one with --tls-cert and --tls-key.
enum TLSSetup {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func context(certificate: String?, key: String?) throws -> (NIOSSLContext, selfSigned: Bool) {
        let chain: [NIOSSLCertificateSource]
        let privateKey: NIOSSLPrivateKeySource
        let selfSigned: Bool
        switch (certificate, key) {
        case (let certificate?, let key?):
            do {
                chain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw Failure(description: "--tls-cert/--tls-key: cannot load '\(certificate)' and '\(key)' as PEM: \(error)")
            }
            selfSigned = false
        case (nil, nil):
            let (certificatePEM, keyPEM) = try makeSelfSigned()
            chain = [.certificate(try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem))]
            privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
            selfSigned = true
        default:
            throw Failure(description: "--tls-cert and --tls-key go together")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: privateKey)
        return (try NIOSSLContext(configuration: configuration), selfSigned)
    }

    /// A fresh self-signed certificate and its key, as PEM.
    static func makeSelfSigned(now: Date = Date()) throws -> (certificate: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName("streamd test server")
            OrganizationName("portctl")
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(365 * 24 * 3600),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames([.dnsName("localhost")])
            },
            issuerPrivateKey: .init(key))
        return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
    }
}
