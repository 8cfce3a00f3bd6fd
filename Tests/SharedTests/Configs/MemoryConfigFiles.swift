import PortProfiles

/// Configuration files held in memory, for readers' tests: includes and globs without the disk.
struct MemoryConfigFiles: ConfigFileSystem {
    var files: [String: String]

    init(_ files: [String: String]) { self.files = files }

    func read(_ path: String) throws(ConfigError) -> String {
        guard let text = files[path] else { throw ConfigError(file: path, line: 0, message: "no such file") }
        return text
    }

    func exists(_ path: String) -> Bool { files[path] != nil }

    /// `*` and `?` within one path component, as the shell's glob matches them.
    func glob(_ pattern: String) -> [String] {
        files.keys.filter { Self.matches(Array($0), Array(pattern)) }.sorted()
    }

    private static func matches(_ name: [Character], _ pattern: [Character]) -> Bool {
        guard let first = pattern.first else { return name.isEmpty }
        switch first {
        case "*":
            var index = 0
            while true {
                if matches(Array(name[index...]), Array(pattern.dropFirst())) { return true }
                guard index < name.count, name[index] != "/" else { return false }
                index += 1
            }
        case "?":
            guard let head = name.first, head != "/" else { return false }
            return matches(Array(name.dropFirst()), Array(pattern.dropFirst()))
        default:
            guard name.first == first else { return false }
            return matches(Array(name.dropFirst()), Array(pattern.dropFirst()))
        }
    }
}
