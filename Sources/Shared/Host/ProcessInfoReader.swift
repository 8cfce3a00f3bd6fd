import Foundation

/// A process that holds a socket: who it is, and which systemd unit started it.
public struct SocketOwner: Sendable, Hashable {
    public let pid: Int
    /// The short name the kernel keeps (`/proc/PID/comm`).
    public let name: String
    /// The executable's path, when readable.
    public let executable: String?
    public let commandLine: [String]
    public let uid: Int?
    /// The systemd unit from the process's cgroup (`nginx.service`), when there is one.
    public let unit: String?
}

/// Maps socket inodes to the processes holding them, by reading /proc/PID/fd.
///
/// Without root, other users' /proc/PID/fd cannot be read, so their sockets show no owner;
/// `hiddenProcesses` counts the processes that could not be read.
public struct SocketOwnerIndex: Sendable {
    public private(set) var owners: [UInt64: [SocketOwner]] = [:]
    public private(set) var hiddenProcesses = 0

    /// Scans every process under `root`/proc, stopping early once every wanted inode is found.
    /// With `onlyNamed`, looks only at processes with one of those names (`/proc/PID/comm`).
    public init(root: String = "/", wanted: Set<UInt64>? = nil, onlyNamed: Set<String>? = nil) {
        let proc = (root as NSString).appendingPathComponent("proc")
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: proc) else { return }
        var remaining = wanted
        for entry in entries {
            guard let pid = Int(entry) else { continue }
            if let onlyNamed {
                let name = Self.read("\(proc)/\(entry)/comm")?.trimmingCharacters(in: .newlines) ?? ""
                guard onlyNamed.contains(name) else { continue }
            }
            let fdDirectory = "\(proc)/\(entry)/fd"
            guard let fds = try? FileManager.default.contentsOfDirectory(atPath: fdDirectory) else {
                hiddenProcesses += 1
                continue
            }
            var found: [UInt64] = []
            for fd in fds {
                guard let target = readLink("\(fdDirectory)/\(fd)"), target.hasPrefix("socket:["), target.hasSuffix("]") else { continue }
                guard let inode = UInt64(target.dropFirst(8).dropLast()) else { continue }
                if let wanted, !wanted.contains(inode) { continue }
                found.append(inode)
            }
            guard !found.isEmpty else { continue }
            let owner = Self.describe(pid: pid, proc: proc)
            for inode in found where !(owners[inode]?.contains(owner) ?? false) {
                owners[inode, default: []].append(owner)
                remaining?.remove(inode)
            }
            if let remaining, remaining.isEmpty { break }
        }
    }

    static func describe(pid: Int, proc: String) -> SocketOwner {
        let base = "\(proc)/\(pid)"
        let name = read("\(base)/comm")?.trimmingCharacters(in: .newlines) ?? "?"
        let commandLine = read("\(base)/cmdline")?.split(separator: "\0").map(String.init) ?? []
        var uid: Int?
        if let status = read("\(base)/status"), let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }) {
            uid = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { Int($0) }
        }
        return SocketOwner(
            pid: pid, name: name, executable: readLink("\(base)/exe"), commandLine: commandLine, uid: uid,
            unit: read("\(base)/cgroup").flatMap(unit(fromCgroup:)))
    }

    /// The last `.service` (or `.scope`) component of the unified cgroup path.
    public static func unit(fromCgroup text: String) -> String? {
        for line in text.split(separator: "\n") {
            guard let path = line.split(separator: ":", maxSplits: 2).last else { continue }
            if let unit = path.split(separator: "/").last(where: { $0.hasSuffix(".service") }) { return String(unit) }
        }
        return nil
    }

    static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }
}

func readLink(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink(path, &buffer, buffer.count - 1)
    guard count > 0 else { return nil }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
