import Foundation

/// A namespace pair with a scratch folder and a knock key, for tests that run streamd in the
/// server namespace and talk to it from the client one. Everything goes with `destroy()`.
public final class StreamdNamespaces: @unchecked Sendable {
    public static let keyText = "portctl-test-key"
    public let pair: NamespacePair
    public let work: URL

    public init(name: String, ipv6: Bool = false) throws {
        pair = try NamespacePair(ipv6: ipv6)
        work = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            // Mode 0600, as an admin keeps it: streamd and the probe warn about a key others may read.
            let created = FileManager.default.createFile(
                atPath: work.appendingPathComponent("key").path, contents: Data("\(Self.keyText)\n".utf8),
                attributes: [.posixPermissions: 0o600])
            if !created { throw CocoaError(.fileWriteUnknown) }
        } catch {
            pair.destroy()
            throw error
        }
    }

    public var key: String { work.appendingPathComponent("key").path }
    public var logPath: String { work.appendingPathComponent("streamd.log").path }
    /// Everything every streamd started here has logged (each start appends).
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Starts streamd in the server namespace with the key (or `key`) and log file, and waits (at
    /// most 10 s) until it logs that it is serving, or an error. Its standard error goes to `stderr`.
    @discardableResult
    public func startStreamd(_ arguments: [String], key: String? = nil, stderr: URL? = nil) throws -> Process {
        func count(_ word: String) -> Int { log.components(separatedBy: word).count - 1 }
        let serving = count("serving")
        let errors = count("error")
        let process = try pair.start(
            in: pair.server, [TestPaths.binary("streamd").path] + arguments + ["--key", key ?? self.key, "--log-file", logPath],
            stderr: stderr)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, count("serving") == serving, count("error") == errors { usleep(100_000) }
        return process
    }

    public func destroy() {
        pair.destroy()
        try? FileManager.default.removeItem(at: work)
    }
}
