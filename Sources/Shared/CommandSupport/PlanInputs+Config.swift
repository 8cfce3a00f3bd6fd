import FoundationEssentials
import PortModel
import PortProfiles

extension PlanInputs {
    /// The profiles the plan combines: those named, each `--config` read into the profile of its
    /// kind. With one profile named that has a reader and one `--config`, the file is read as that
    /// profile's kind; otherwise each file's kind is recognised from it, and replaces the profile of
    /// that name or joins the plan.
    func profiles(from catalog: ProfileCatalog, warnings: inout [Diagnostic]) throws(CommandFailure) -> [Profile] {
        var loaded: [Profile] = []
        for name in profiles where !loaded.contains(where: { $0.name == name }) {
            loaded.append(try load(name, from: catalog, warnings: &warnings))
        }
        guard !configs.isEmpty else {
            if loaded.isEmpty { throw CommandFailure(.usage, "name at least one profile, or a server configuration with --config FILE") }
            return loaded
        }
        var named: ConfigKind?
        if loaded.count == 1, configs.count == 1 { named = ConfigKind(rawValue: loaded[0].name) }
        var seen: [ConfigKind: String] = [:]
        for given in configs {
            // Absolute, so that includes, drift checks and the recorded plan do not depend on the
            // directory the command ran in.
            let path = given.hasPrefix("/") ? given : Path.join(FileManager.default.currentDirectoryPath, given)
            let config: ServerConfig
            do throws(ConfigError) { config = try ServerConfigs.read(path: path, kind: named, files: DiskConfigFiles()) } catch {
                throw Self.failure(error)
            }
            if let other = seen[config.kind] {
                throw .flag(
                    "--config",
                    "\(Shown.value(path)) and \(Shown.value(other)) are both \(config.kind) configurations; plan one server of each kind")
            }
            seen[config.kind] = path
            let base = try load(config.kind.profile, from: catalog, warnings: &warnings)
            let profile = ServerConfigs.profile(config, base: base)
            if let index = loaded.firstIndex(where: { $0.name == profile.name }) {
                loaded[index] = profile
            } else {
                loaded.append(profile)
            }
        }
        return loaded
    }

    /// A configuration that cannot be read: exit 66 when the file is missing or unreadable, 65
    /// when its content is wrong; the message starts with file:line.
    static func failure(_ error: ConfigError) -> CommandFailure {
        let missing = error.line == 0 && (error.message == "no such file" || error.message.hasPrefix("cannot be read"))
        return CommandFailure(missing ? .noInput : .dataError, "--config: \(error.description)")
    }
}
