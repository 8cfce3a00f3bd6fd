import FoundationEssentials
import PortModel

/// Every profile portctl can see: the bundled ones and the admin's own directories.
///
/// A profile in a directory overrides a bundled one of the same name. Precedence, highest first:
/// `--profile-dir`, `~/.config/portctl/profiles`, `/etc/portctl/profiles.d`, bundled.
public struct ProfileCatalog: Sendable {
    /// One file that defines a profile name.
    public struct Candidate: Sendable, Hashable {
        public let name: String
        /// A path, or `bundled:NAME.yaml`.
        public let origin: String
        /// The file's bytes, as read: decoding checks that they are UTF-8.
        public let bytes: [UInt8]

        public init(name: String, origin: String, bytes: [UInt8]) {
            self.name = name
            self.origin = origin
            self.bytes = bytes
        }

        /// Decodes and checks this file.
        public func decode() -> ProfileDecoder.Result {
            ProfileDecoder.decode(data: bytes, file: origin, expectedName: name)
        }
    }

    /// Candidates per name, the winner first.
    public let candidates: [String: [Candidate]]
    /// Directories that were searched, highest precedence first.
    public let directories: [String]

    public init(directories: [String], includeBundled: Bool = true) {
        var table: [String: [Candidate]] = [:]
        for directory in directories {
            for candidate in Self.scan(directory) {
                table[candidate.name, default: []].append(candidate)
            }
        }
        if includeBundled {
            for (name, text) in BundledProfiles.files {
                table[name, default: []].append(Candidate(name: name, origin: "bundled:\(name).yaml", bytes: Array(text.utf8)))
            }
        }
        self.candidates = table
        self.directories = directories
    }

    /// The directories searched by default, highest precedence first.
    public static func defaultDirectories(extra: [String], environment: [String: String]) -> [String] {
        var result = extra
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty {
            result.append(config + "/portctl/profiles")
        } else if let home = environment["HOME"], !home.isEmpty {
            result.append(home + "/.config/portctl/profiles")
        }
        result.append("/etc/portctl/profiles.d")
        return result
    }

    public var names: [String] { candidates.keys.sorted() }

    public func winner(_ name: String) -> Candidate? { candidates[name]?.first }

    public enum LoadError: Error, Sendable {
        case unknown(name: String, suggestion: String?, known: [String])
        case invalid(name: String, diagnostics: [Diagnostic])
    }

    /// Loads and validates the winning file for `name`.
    public func load(_ name: String) -> Swift.Result<(Profile, [Diagnostic]), LoadError> {
        guard let candidate = winner(name) else {
            return .failure(.unknown(name: name, suggestion: Suggestion.closest(to: name, in: names), known: names))
        }
        let result = candidate.decode()
        guard let profile = result.profile else {
            return .failure(.invalid(name: name, diagnostics: result.diagnostics))
        }
        return .success((profile, result.diagnostics))
    }

    static func scan(_ directory: String) -> [Candidate] {
        let manager = FileManager.default
        guard let entries = try? manager.contentsOfDirectory(atPath: directory) else { return [] }
        return entries.sorted().compactMap { entry -> Candidate? in
            let stem: String
            if entry.hasSuffix(".yaml") {
                stem = String(entry.dropLast(5))
            } else if entry.hasSuffix(".yml") {
                stem = String(entry.dropLast(4))
            } else {
                return nil
            }
            let path = directory + "/" + entry
            guard let data = manager.contents(atPath: path) else { return nil }
            return Candidate(name: stem, origin: path, bytes: Array(data))
        }
    }
}
