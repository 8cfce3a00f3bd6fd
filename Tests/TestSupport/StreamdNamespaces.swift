import Foundation

/// A namespace pair with a scratch folder and a knock key, for tests that run streamd in the
/// server namespace and talk to it from the client one. Everything goes with `destroy()`.
public final class StreamdNamespaces: @unchecked Sendable {
    public static let keyText = "portctl-test-key"
    public let pair: NamespacePair
    public let work: URL

    public init(name: String) throws {
        pair = try NamespacePair()
        work = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            try "\(Self.keyText)\n".write(to: work.appendingPathComponent("key"), atomically: true, encoding: .utf8)
        } catch {
            pair.destroy()
            throw error
        }
    }

    public var key: String { work.appendingPathComponent("key").path }
    public var logPath: String { work.appendingPathComponent("streamd.log").path }
    /// Everything every streamd started here has logged (each start appends).
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Starts streamd in the server namespace with the key and log file, and waits (at most 10 s)
    /// until it logs that it is serving, or an error.
    @discardableResult
    public func startStreamd(_ arguments: [String]) throws -> Process {
        func count(_ word: String) -> Int { log.components(separatedBy: word).count - 1 }
        let serving = count("serving"), errors = count("error")
        let process = try pair.start(in: pair.server, [TestPaths.binary("streamd").path] + arguments + ["--key", key, "--log-file", logPath])
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, count("serving") == serving, count("error") == errors { usleep(100_000) }
        return process
    }

    public func destroy() {
        pair.destroy()
        try? FileManager.default.removeItem(at: work)
    }
}
