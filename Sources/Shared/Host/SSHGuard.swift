import Foundation

/// What portctl knows about SSH on this host, so that an apply never cuts the admin off.
///
/// Ports come from sshd's configuration (`Port`, `ListenAddress`, following `Include`), from
/// sockets held by a process named sshd, and from the current session's `SSH_CONNECTION`.
public struct SSHFacts: Sendable, Hashable {
    public struct Source: Sendable, Hashable, CustomStringConvertible {
        public let port: PortNumber
        public let origin: String
        public var description: String { "\(port)/tcp (\(origin))" }
    }

    /// The session portctl runs in, when it runs over SSH.
    public struct Session: Sendable, Hashable {
        public let client: String
        public let serverPort: PortNumber
    }

    public let sources: [Source]
    public let session: Session?

    public init(sources: [Source], session: Session?) {
        self.sources = sources
        self.session = session
    }

    public var ports: [PortNumber] { Array(Set(sources.map(\.port))).sorted() }

    public static func detect(root: String = "/", environment: [String: String]) -> SSHFacts {
        var sources = configPorts(root: root)
        let sockets = ListeningSocket.all(root: root, transports: [.tcp])
        if !sockets.isEmpty {
            let owners = SocketOwnerIndex(root: root, wanted: Set(sockets.map(\.inode)), onlyNamed: ["sshd"])
            for socket in sockets where owners.owners[socket.inode]?.contains(where: { $0.name == "sshd" }) ?? false {
                if let port = try? PortNumber(socket.port) {
                    sources.append(Source(port: port, origin: "sshd listening on \(socket.address)"))
                }
            }
        }
        let session = environment["SSH_CONNECTION"].flatMap(parseSession)
        if let session { sources.append(Source(port: session.serverPort, origin: "this SSH session from \(session.client)")) }
        return SSHFacts(sources: sources, session: session)
    }

    /// `SSH_CONNECTION` is "client_ip client_port server_ip server_port".
    public static func parseSession(_ text: String) -> Session? {
        let words = text.split(separator: " ")
        guard words.count == 4, let port = try? PortNumber(parsing: String(words[3])) else { return nil }
        return Session(client: String(words[0]), serverPort: port)
    }

    /// Ports from /etc/ssh/sshd_config and the files it includes; 22 when a config exists but names none.
    public static func configPorts(root: String = "/") -> [Source] {
        let main = (root as NSString).appendingPathComponent("etc/ssh/sshd_config")
        guard FileManager.default.fileExists(atPath: main) else { return [] }
        var sources: [Source] = []
        var visited = Set<String>()
        func visit(_ path: String, depth: Int) {
            guard depth < 8, visited.insert(path).inserted, let data = FileManager.default.contents(atPath: path) else { return }
            for (index, rawLine) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
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
                        for file in glob((root as NSString).appendingPathComponent(relative)) { visit(file, depth: depth + 1) }
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
