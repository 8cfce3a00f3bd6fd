import FirewallState
import PortModel
import PortProfiles

/// Compares an applied generation with the server configurations it followed, as they are now:
/// `mediamtx.yml:42 now says 'rtmpAddress: :1936'; generation 4 opens 1935/tcp for mediamtx/rtmp`.
public enum ConfigDrift {
    public struct Report: Sendable {
        /// The configuration files the generation followed, as `--config` named them.
        public let configs: [String]
        /// One line per difference, each naming the line of the configuration and the generation.
        public let findings: [String]
        /// What to run to follow the configurations again; nil when nothing drifted.
        public let remedy: String?
    }

    struct Shape: Equatable {
        var ports: Set<String> = []
        var destination: String?
    }

    /// Nil when the generation followed no configuration.
    public static func check(store: StateStore, catalog: ProfileCatalog, files: some ConfigFileSystem = DiskConfigFiles()) -> Report? {
        let generation = store.current()
        guard generation > 0, let text = store.planJSON(generation), let plan = try? JSONValue.parse(text) else { return nil }
        var configs: [(profile: String, kind: ConfigKind, path: String)] = []
        for profile in plan["profiles"]?.array ?? [] {
            guard let name = profile["name"]?.string, let configuration = profile["configuration"],
                let path = configuration["path"]?.string,
                let kind = configuration["kind"]?.string.flatMap(ConfigKind.init(rawValue:))
            else { continue }
            configs.append((name, kind, path))
        }
        guard !configs.isEmpty else { return nil }
        var open: [String: Shape] = [:]
        for entry in plan["openings"]?.array ?? [] {
            for part in entry["provenance"]?.array ?? [] {
                guard let profile = part["profile"]?.string, let opening = part["opening"]?.string, let ports = part["ports"]?.string else {
                    continue
                }
                open["\(profile)/\(opening)", default: Shape()].ports.insert(ports)
                open["\(profile)/\(opening)"]!.destination = entry["destination"]?.string
            }
        }
        var closedBySet: [String: Set<String>] = [:]
        for item in plan["closed"]?.array ?? [] where item["source_set"]?.string != nil {
            guard let profile = item["profile"]?.string, let opening = item["opening"]?.string else { continue }
            closedBySet["\(profile)/\(opening)"] = Set((item["ports"]?.array ?? []).compactMap(\.string))
        }
        var findings: [String] = []
        for config in configs {
            findings += compare(config, generation: generation, open: open, closedBySet: closedBySet, catalog: catalog, files: files)
        }
        let remedy = Self.remedy(store.meta(generation)?.command ?? [], configs: configs.map(\.path))
        return Report(configs: configs.map(\.path), findings: findings, remedy: findings.isEmpty ? nil : remedy)
    }

    static func compare(
        _ config: (profile: String, kind: ConfigKind, path: String), generation: Int, open: [String: Shape],
        closedBySet: [String: Set<String>], catalog: ProfileCatalog, files: some ConfigFileSystem
    ) -> [String] {
        let now: Profile
        let read: ServerConfig
        do throws(ConfigError) {
            read = try ServerConfigs.read(path: config.path, kind: config.kind, files: files)
            guard case .success(let (base, _)) = catalog.load(config.kind.profile) else {
                return ["the \(config.kind) profile cannot be loaded to compare \(config.path) with generation \(generation)"]
            }
            now = ServerConfigs.profile(read, base: base)
        } catch {
            return ["\(error.description); generation \(generation) follows this configuration as it was"]
        }
        var findings: [String] = []
        var seen = Set<String>()
        var citations: [String: Citation] = [:]
        for listener in read.listeners { citations[listener.id] = listener.citation }
        for item in read.closed { citations[item.id] = item.citation }
        func said(_ id: String) -> String {
            guard let citation = citations[id] else { return "\(config.path) now" }
            let place = citation.line > 0 ? "\(citation.fileName):\(citation.line)" : citation.fileName
            return "\(place) now says '\(citation.text)'"
        }
        for opening in now.openings {
            let label = "\(config.profile)/\(opening.id)"
            seen.insert(label)
            let shape = Shape(ports: Set(opening.ports.map(\.description)), destination: opening.destination?.addressText)
            let ports = opening.ports.map(\.description).joined(separator: ", ")
            if let before = open[label] {
                guard before != shape else { continue }
                let was = before.ports.sorted().joined(separator: ", ") + (before.destination.map { " on \($0)" } ?? "")
                findings.append("\(said(opening.id)); generation \(generation) opens \(was) for \(label)")
            } else if let ports = closedBySet[label], ports == shape.ports {
                continue
            } else {
                findings.append("\(said(opening.id)); generation \(generation) does not open \(ports) for \(label)")
            }
        }
        for item in now.configuration?.closed ?? [] {
            let label = "\(config.profile)/\(item.id)"
            seen.insert(label)
            guard let before = open[label] else { continue }
            findings.append(
                "\(said(item.id)) (\(item.reason)); generation \(generation) opens \(before.ports.sorted().joined(separator: ", ")) for \(label)"
            )
        }
        for (label, before) in open.sorted(by: { $0.key < $1.key }) where label.hasPrefix("\(config.profile)/") && !seen.contains(label) {
            findings.append(
                "\(config.path) no longer has \(label); generation \(generation) opens \(before.ports.sorted().joined(separator: ", ")) for it"
            )
        }
        return findings
    }

    /// The command that applied the generation, shell-quoted, with each --config file as the
    /// absolute path it was read from: what to run to follow the configurations again.
    static func remedy(_ command: [String], configs: [String]) -> String {
        guard command.count > 1 else { return "portctl apply " + configs.map { "--config \(quoted($0))" }.joined(separator: " ") }
        var words: [String] = ["portctl"]
        var next = configs.makeIterator()
        var index = 1
        while index < command.count {
            let word = command[index]
            if word == "--config", index + 1 < command.count {
                words += ["--config", quoted(next.next() ?? command[index + 1])]
                index += 2
                continue
            }
            if word.hasPrefix("--config=") {
                words.append("--config=" + quoted(next.next() ?? String(word.dropFirst("--config=".count))))
            } else {
                words.append(quoted(word))
            }
            index += 1
        }
        return words.joined(separator: " ")
    }

    static func quoted(_ word: String) -> String {
        let plain =
            !word.isEmpty
            && word.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_./:=@%+,-".unicodeScalars.contains(scalar))
            }
        if plain { return word }
        return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
