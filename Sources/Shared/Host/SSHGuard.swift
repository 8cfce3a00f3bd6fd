import FoundationEssentials
import Glibc
import PortModel
import PortPlanning

/// What portctl knows about SSH on this host, so that an apply never cuts the admin off.
///
/// Ports come from sshd's configuration (`Port`, `ListenAddress`, following `Include`), from the
/// listening sockets of SSH servers (told by their executable, not only by their process name,
/// which a program may change), from systemd's `ssh.socket` when sshd is socket-activated, and
/// from the current session's `SSH_CONNECTION`.
public struct SSHFacts: Sendable, Hashable {
    public struct Source: Sendable, Hashable, CustomStringConvertible {
        public let port: PortNumber
        public let origin: String
        public var description: String { "\(port)/tcp (\(origin))" }
    }

    /// The session portctl runs in, when it runs over SSH.
    public typealias Session = SSHSession

    public let sources: [Source]
    public let session: Session?

    public init(sources: [Source], session: Session?) {
        self.sources = sources
        self.session = session
    }

    public var ports: [PortNumber] { Array(Set(sources.map(\.port))).sorted() }

    public static func detect(root: String = "/", environment: [String: String]) -> SSHFacts {
        var sources = configPorts(root: root) + socketUnitPorts(root: root)
        let sockets = ListeningSocket.all(root: root, transports: [.tcp])
        if !sockets.isEmpty {
            let binaries = knownServerBinaries(root: root)
            let owners = SocketOwnerIndex(root: root, wanted: Set(sockets.map(\.inode))) { pid, proc in
                isSSHServer(pid: pid, proc: proc, binaries: binaries) != nil
            }
            for socket in sockets {
                guard let owner = owners.owners[socket.inode]?.first, let port = try? PortNumber(socket.port) else { continue }
                let what = owner.executable.map { Path.lastComponent($0) } ?? owner.name
                sources.append(Source(port: port, origin: "\(what) (pid \(owner.pid)) listening on \(socket.address)"))
            }
        }
        let session = environment["SSH_CONNECTION"].flatMap(parseSession)
        if let session { sources.append(Source(port: session.serverPort, origin: "this SSH session from \(session.client)")) }
        return SSHFacts(sources: sources, session: session)
    }

    /// Executable names of SSH servers.
    static let serverNames: Set<String> = ["sshd", "dropbear", "tinysshd"]

    /// The (device, inode) of the SSH server binaries installed here, so that a hard link or a
    /// process that renamed itself is still known by what it runs.
    static func knownServerBinaries(root: String) -> Set<[UInt64]> {
        var result = Set<[UInt64]>()
        for path in ["usr/sbin/sshd", "usr/local/sbin/sshd", "sbin/sshd", "usr/sbin/dropbear", "usr/bin/dropbear"] {
            var info = stat()
            if stat(Path.join(root, path), &info) == 0 {
                result.insert([UInt64(info.st_dev), UInt64(info.st_ino)])
            }
        }
        return result
    }

    /// Whether a process is an SSH server, and why: its executable's name, the binary it runs, or
    /// its process name. The executable comes first: a process may rename itself, not what it runs.
    static func isSSHServer(pid: Int, proc: String, binaries: Set<[UInt64]>) -> String? {
        let base = "\(proc)/\(pid)"
        if let executable = readLink("\(base)/exe") {
            let path = executable.hasSuffix(" (deleted)") ? String(executable.dropLast(" (deleted)".count)) : executable
            if serverNames.contains(Path.lastComponent(path)) { return "executable \(path)" }
            var info = stat()
            if stat("\(base)/exe", &info) == 0, binaries.contains([UInt64(info.st_dev), UInt64(info.st_ino)]) { return "runs \(path)" }
        }
        if let comm = SocketOwnerIndex.read("\(base)/comm")?.trimmingNewlines(), serverNames.contains(comm) {
            return "named \(comm)"
        }
        return nil
    }

    /// Ports of a socket-activated sshd: systemd, not sshd, holds the listening socket, so it is
    /// read from `ssh.socket` (or `sshd.socket`) and its drop-ins when that unit is enabled.
    public static func socketUnitPorts(root: String = "/") -> [Source] {
        var sources: [Source] = []
        for unit in ["ssh.socket", "sshd.socket"] {
            let enabled = Path.join(root, "etc/systemd/system/sockets.target.wants/\(unit)")
            guard FileManager.default.fileExists(atPath: enabled) || readLink(enabled) != nil else { continue }
            var files: [String] = []
            for directory in ["lib/systemd/system", "usr/lib/systemd/system", "etc/systemd/system"] {
                let file = Path.join(root, "\(directory)/\(unit)")
                if FileManager.default.fileExists(atPath: file) { files = [file] }
            }
            files += glob(Path.join(root, "etc/systemd/system/\(unit).d/*.conf"))
            var ports: [(PortNumber, String)] = []
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                    .enumerated()
                {
                    let trimmed = line.trimmingSpaces()
                    guard trimmed.hasPrefix("ListenStream") else { continue }
                    let value =
                        trimmed.split(separator: "=", maxSplits: 1).dropFirst().first.map { $0.trimmingSpaces() } ?? ""
                    // An empty ListenStream= resets the list (a drop-in replacing the port).
                    if value.isEmpty {
                        ports.removeAll()
                        continue
                    }
                    let portText = value.split(separator: ":").last.map(String.init) ?? value
                    if let port = try? PortNumber(parsing: portText) { ports.append((port, "\(file):\(index + 1)")) }
                }
            }
            sources += ports.map { Source(port: $0.0, origin: $0.1) }
        }
        return sources
    }

    /// `SSH_CONNECTION` is "client_ip client_port server_ip server_port".
    public static func parseSession(_ text: String) -> Session? {
        let words = text.split(separator: " ")
        guard words.count == 4, let port = try? PortNumber(parsing: String(words[3])) else { return nil }
        return Session(client: String(words[0]), serverPort: port)
    }

    /// Ports from /etc/ssh/sshd_config and the files it includes; 22 when a config exists but names none.
    public static func configPorts(root: String = "/") -> [Source] {
        let main = Path.join(root, "etc/ssh/sshd_config")
        guard FileManager.default.fileExists(atPath: main) else { return [] }
        var sources: [Source] = []
        var visited = Set<String>()
        func visit(_ path: String, depth: Int) {
            guard depth < 8, visited.insert(path).inserted, let data = FileManager.default.contents(atPath: path) else { return }
            for (index, rawLine) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                .enumerated()
            {
                let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "=" }).map(String.init)
                guard let keyword = words.first?.lowercased(), words.count >= 2 else { continue }
                let shown = root == "/" ? path : String(path.dropFirst(root.hasSuffix("/") ? root.count - 1 : root.count))
                let origin = "\(shown):\(index + 1)"
                switch keyword {
                case "match": return
                case "port":
                    if let port = try? PortNumber(parsing: words[1]) { sources.append(Source(port: port, origin: origin)) }
                case "listenaddress":
                    if let colon = words[1].lastIndex(of: ":"), words[1].hasPrefix("[") || words[1].filter({ $0 == ":" }).count == 1,
                        let port = try? PortNumber(parsing: String(words[1][words[1].index(after: colon)...]))
                    {
                        sources.append(Source(port: port, origin: origin))
                    }
                case "include":
                    for pattern in words.dropFirst() {
                        let absolute = pattern.hasPrefix("/") ? pattern : "/etc/ssh/" + pattern
                        let relative = String(absolute.drop { $0 == "/" })
                        for file in glob(Path.join(root, relative)) { visit(file, depth: depth + 1) }
                    }
                default: continue
                }
            }
        }
        visit(main, depth: 0)
        if sources.isEmpty { sources.append(Source(port: PortNumber.ssh, origin: "sshd default")) }
        return sources
    }

    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
