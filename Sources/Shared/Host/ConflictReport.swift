import PortModel
import PortPlanning

/// Who holds, or will hold at boot, the ports a plan needs.
public struct ConflictReport: Sendable {
    /// One process (or hidden owner) holding a socket in a checked range.
    public struct Holder: Sendable, Hashable {
        public let socket: ListeningSocket
        public let owner: SocketOwner?
        public let kind: ServerKind

        public var description: String {
            guard let owner else { return "held by uid \(socket.uid) on \(socket.address):\(socket.port) (owner hidden: run as root)" }
            let unit = owner.unit.map { " (\($0))" } ?? ""
            return "held by \(owner.pid) \(owner.executable ?? owner.name)\(unit) on \(socket.address):\(socket.port)"
        }
    }

    public enum Verdict: String, Sendable {
        case free
        /// Held by the kind of streaming server the plan is for: informational.
        case expected
        case held
        case claimed
    }

    /// One checked range: a plan entry, or a `--port` given on the command line.
    public struct Row: Sendable {
        public let spec: PortSpec
        public let labels: [String]
        public let services: [Service]
        public let holders: [Holder]
        public let claims: [BootClaim]
        public let expectedKinds: Set<String>?

        public var verdict: Verdict {
            if holders.contains(where: { !isExpected($0) }) { return .held }
            if !claims.isEmpty { return .claimed }
            if !holders.isEmpty { return .expected }
            return .free
        }

        /// A single port held, or anything claimed at boot, is a conflict. In a range, the server picks
        /// free ports, so another holder is reported but conflicts only when it is a web server.
        public var isConflict: Bool {
            switch verdict {
            case .claimed: return true
            case .held: return spec.range.isSingle || holders.contains { $0.kind.isWebServer }
            case .free, .expected: return false
            }
        }

        func isExpected(_ holder: Holder) -> Bool {
            guard case .streamingServer(let kind) = holder.kind else { return false }
            return expectedKinds?.contains(kind) ?? true
        }

        /// A web server on a port the plan needs, now (with its pid) or at boot (with its config line).
        public var webServer: (name: String, pid: Int?, unit: String?, origin: String?)? {
            if let holder = holders.first(where: { $0.kind.isWebServer }), case .webServer(let name) = holder.kind {
                return (name, holder.owner?.pid, holder.owner?.unit, nil)
            }
            if let claim = claims.first { return (claim.server, nil, claim.unit, claim.origin) }
            return nil
        }

        /// One line per finding, as `portctl conflicts` prints them.
        public var findings: [String] {
            if holders.isEmpty && claims.isEmpty { return ["free"] }
            var lines = holders.map { holder -> String in
                if isExpected(holder), case .streamingServer(let kind) = holder.kind {
                    return "\(holder.description): the \(kind) streaming server itself (informational)"
                }
                return holder.description
            }
            lines += claims.map(\.description)
            return lines
        }

        /// What to do about a conflict, when there is one.
        public var advice: String? {
            guard isConflict else { return nil }
            let tunnelling = services.contains(.rtspHTTP) || services.contains(.rtmpt) || services.contains(.rtsp)
            let needer = labels.joined(separator: ", ")
            if let web = webServer {
                let who = [web.pid.map { "pid \($0)" }, web.unit].compactMap { $0 }.joined(separator: ", ")
                let verb = web.pid == nil ? "will claim \(spec) at boot" : "holds \(spec)"
                let stop =
                    web.unit.map { "stop and disable it (systemctl disable --now \($0))" }
                    ?? "stop it (kill \(web.pid.map(String.init) ?? "it")) and keep it from starting at boot"
                let move = web.origin.map { "move it to another port (\($0))" } ?? "move it to another port"
                var text = "\(web.name)\(who.isEmpty ? "" : " (\(who))") \(verb), which \(needer) needs: \(stop), \(move)"
                if tunnelling && spec.range.contains(port: 80) { text += ", or drop --port80 and use 554/7070" }
                return text
            }
            let holder = holders.first { !isExpected($0) }
            let who =
                holder?.owner.map { "\($0.executable ?? $0.name) (pid \($0.pid)\($0.unit.map { ", \($0)" } ?? ""))" } ?? "another program"
            return "\(who) holds \(spec), which \(needer) needs: stop it, or move it to another port"
        }
    }

    public let rows: [Row]
    /// Processes whose sockets could not be read (not root): their owners are hidden.
    public let hiddenProcesses: Int

    public var hasConflict: Bool { rows.contains(where: \.isConflict) }

    /// Checks `specs` (with the labels and services that need them) against live sockets and boot claims.
    public static func check(
        _ targets: [(spec: PortSpec, labels: [String], services: [Service])], profiles: [String], root: String = "/"
    ) -> ConflictReport {
        let sockets = ListeningSocket.all(
            root: root, transports: Transport.allCases.filter { transport in targets.contains { $0.spec.transport == transport } })
        let relevant = sockets.filter { socket in
            targets.contains { $0.spec.transport == socket.transport && $0.spec.range.contains(port: socket.port) }
        }
        let owners = SocketOwnerIndex(root: root, wanted: Set(relevant.map(\.inode)))
        let boot = BootClaims(root: root)
        let expected = ServerKind.expectedStreamingKinds(for: profiles)
        let runningUnits = Set(owners.owners.values.flatMap { $0.compactMap(\.unit) })

        let rows = targets.map { target -> Row in
            var holders: [Holder] = []
            for socket in relevant where socket.transport == target.spec.transport && target.spec.range.contains(port: socket.port) {
                let found = owners.owners[socket.inode] ?? []
                if found.isEmpty {
                    holders.append(Holder(socket: socket, owner: nil, kind: .other))
                }
                for owner in found {
                    let kind = ServerKind.classify(
                        name: owner.name, executable: owner.executable, commandLine: owner.commandLine, port: socket.port)
                    holders.append(Holder(socket: socket, owner: owner, kind: kind))
                }
            }
            let claims = boot.claims.filter { claim in
                claim.transport == target.spec.transport && target.spec.range.contains(port: claim.port)
                    && !runningUnits.contains(claim.unit)
            }
            return Row(
                spec: target.spec, labels: target.labels, services: target.services, holders: holders, claims: claims,
                expectedKinds: expected)
        }
        return ConflictReport(rows: rows, hiddenProcesses: owners.hiddenProcesses)
    }
}

extension PortRange {
    public func contains(port: Int) -> Bool { Int(low.value) <= port && port <= Int(high.value) }
}
