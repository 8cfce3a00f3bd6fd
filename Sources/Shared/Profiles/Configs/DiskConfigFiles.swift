import FoundationEssentials
import PortModel

#if canImport(Glibc)
    import Glibc
#endif

/// The configuration files on disk.
public struct DiskConfigFiles: ConfigFileSystem {
    /// Larger files are refused: no server configuration is this big, and a mistaken path
    /// (`/dev/zero`, a log) must not be read into memory.
    public static let maxBytes = 4 << 20

    public init() {}

    public func read(_ path: String) throws(ConfigError) -> String {
        // stat, not lstat: Debian's sites-enabled and modules-enabled hold symbolic links.
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno == ENOENT ? "no such file" : "cannot be read (\(String(cString: strerror(errno))))"
            throw ConfigError(file: path, line: 0, message: reason)
        }
        let type = info.st_mode & S_IFMT
        guard type != S_IFDIR else { throw ConfigError(file: path, line: 0, message: "is a directory, not a configuration file") }
        guard type == S_IFREG else { throw ConfigError(file: path, line: 0, message: "is not a regular file") }
        guard Int(info.st_size) <= Self.maxBytes else {
            throw ConfigError(file: path, line: 0, message: "is \(info.st_size) bytes; a configuration file is at most \(Self.maxBytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, line: 0, message: "cannot be read (permission denied?)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ConfigError(file: path, line: 0, message: "is not UTF-8 text")
        }
        return text
    }

    public func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    public func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        var paths: [String] = []
        for index in 0..<Int(result.gl_pathc) {
            if let pointer = result.gl_pathv[index] { paths.append(String(cString: pointer)) }
        }
        return paths.sorted()
    }
}
