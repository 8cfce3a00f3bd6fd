import COpenSSL
import FoundationEssentials
import NIOSSL

#if canImport(Glibc)
    import Glibc
#endif

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

    /// A fresh self-signed certificate and its key, as PEM, made with the system's OpenSSL.
    static func makeSelfSigned() throws -> (certificate: String, key: String) {
        var certificate: UnsafeMutablePointer<CChar>?
        var key: UnsafeMutablePointer<CChar>?
        guard portctl_self_signed("streamd test server", "portctl", 365, &certificate, &key) == 0, let certificate, let key else {
            let code = ERR_get_error()
            let reason = code == 0 ? "unknown error" : ERR_reason_error_string(code).map { String(cString: $0) } ?? "error \(code)"
            throw Failure(description: "cannot make a self-signed certificate: OpenSSL: \(reason)")
        }
        defer {
            free(certificate)
            free(key)
        }
        return (String(cString: certificate), String(cString: key))
    }
}
