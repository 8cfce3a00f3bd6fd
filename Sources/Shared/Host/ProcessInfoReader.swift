import Dispatch
import FoundationEssentials
import Glibc
import PortModel
import PortPlanning

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
    /// With `onlyNamed`, looks only at processes with one of those names (`/proc/PID/comm`); with
    /// `only`, at processes for which it says yes (given the pid and the /proc directory).
    public init(
        root: String = "/", wanted: Set<UInt64>? = nil, onlyNamed: Set<String>? = nil,
        only: (@Sendable (_ pid: Int, _ proc: String) -> Bool)? = nil
    ) {
        // Nothing wanted, nothing to find: the scan would stop before reading any process.
        if let wanted, wanted.isEmpty { return }
        let proc = Path.join(root, "proc")
        var listed: [Int] = []
        Directory.forEach(proc) { name in
            if let pid = Int(String(cString: name)) { listed.append(pid) }
            return true
        }
        let pids = listed
        // Each process's fd directory is independent: scan them in parallel chunks, and stop all
        // chunks once every wanted inode has an owner.
        // The processors online (sysconf), not ProcessInfo's count, which reads the cgroup's files first.
        let chunks = max(1, min(8, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) * 2))
        let results = ScanResults(chunks: chunks)
        let wantedCount = wanted?.count
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var local: [(Int, [UInt64])] = []
            var hidden = 0
            var index = chunk
            while index < pids.count {
                if let wantedCount, results.foundCount() >= wantedCount { break }
                let pid = pids[index]
                index += chunks
                if let onlyNamed {
                    let name = Self.read("\(proc)/\(pid)/comm")?.trimmingNewlines() ?? ""
                    guard onlyNamed.contains(name) else { continue }
                }
                if let only, !only(pid, proc) { continue }
                let fdDirectory = "\(proc)/\(pid)/fd/"
                var found: [UInt64] = []
                let readable = Directory.forEach(fdDirectory) { name in
                    guard let inode = Directory.socketInode(fdDirectory + String(cString: name)) else { return true }
                    if let wanted, !wanted.contains(inode) { return true }
                    found.append(inode)
                    return true
                }
                if !readable {
                    hidden += 1
                    continue
                }
                if !found.isEmpty {
                    local.append((pid, found))
                    if wanted != nil { results.add(found) }
                }
            }
            results.store(chunk: chunk, local, hidden: hidden)
        }
        for (pid, found) in results.all.sorted(by: { $0.0 < $1.0 }) {
            let owner = Self.describe(pid: pid, proc: proc)
            for inode in found where !(owners[inode]?.contains(owner) ?? false) {
                owners[inode, default: []].append(owner)
            }
        }
        hiddenProcesses = results.hidden
    }

    static func describe(pid: Int, proc: String) -> SocketOwner {
        let base = "\(proc)/\(pid)"
        let name = read("\(base)/comm")?.trimmingNewlines() ?? "?"
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

/// What the parallel scan's chunks found, gathered under a lock.
final class ScanResults: @unchecked Sendable {
    private let lock = Lock()
    private var found = Set<UInt64>()
    private var chunkResults: [[(Int, [UInt64])]]
    private var hiddenCounts: [Int]

    init(chunks: Int) {
        chunkResults = Array(repeating: [], count: chunks)
        hiddenCounts = Array(repeating: 0, count: chunks)
    }

    func add(_ inodes: [UInt64]) { lock.withLock { found.formUnion(inodes) } }
    func foundCount() -> Int { lock.withLock { found.count } }

    func store(chunk: Int, _ results: [(Int, [UInt64])], hidden: Int) {
        lock.withLock {
            chunkResults[chunk] = results
            hiddenCounts[chunk] = hidden
        }
    }

    var all: [(Int, [UInt64])] { lock.withLock { chunkResults.flatMap { $0 } } }
    var hidden: Int { lock.withLock { hiddenCounts.reduce(0, +) } }
}

func readLink(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink(path, &buffer, buffer.count - 1)
    guard count > 0 else { return nil }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
