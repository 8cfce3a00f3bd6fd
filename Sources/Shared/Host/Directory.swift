import PortModel
import PortPlanning

#if canImport(Glibc)
    import Glibc
#endif

/// Directory listing with opendir(3), without Foundation's per-entry work: scanning every
/// /proc/PID/fd on a busy host is the hot path of `conflicts` and of the SSH guard.
enum Directory {
    /// Calls `body` with each entry's name (not `.` or `..`); false stops the walk. Returns false
    /// when the directory cannot be opened (missing, or another user's /proc/PID/fd without root).
    @discardableResult
    static func forEach(_ path: String, _ body: (UnsafePointer<CChar>) -> Bool) -> Bool {
        guard let handle = opendir(path) else { return false }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let keepGoing = withUnsafePointer(to: &entry.pointee.d_name) { tuple -> Bool in
                tuple.withMemoryRebound(to: CChar.self, capacity: 256) { name in
                    if name[0] == 46, name[1] == 0 || (name[1] == 46 && name[2] == 0) { return true }
                    return body(name)
                }
            }
            if !keepGoing { break }
        }
        return true
    }

    /// The inode of a `socket:[N]` link, or nil for any other link.
    static func socketInode(_ path: String) -> UInt64? {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 9 else { return nil }
        // "socket:[" is 8 bytes; the number runs to the closing bracket.
        let prefix: [CChar] = [115, 111, 99, 107, 101, 116, 58, 91]
        guard Array(buffer[0..<8]) == prefix, buffer[count - 1] == 93 else { return nil }
        var value: UInt64 = 0
        for index in 8..<(count - 1) {
            let digit = buffer[index] - 48
            guard digit >= 0, digit <= 9 else { return nil }
            value = value * 10 + UInt64(digit)
        }
        return value
    }
}
