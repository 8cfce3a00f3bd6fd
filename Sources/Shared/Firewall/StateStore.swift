import FoundationEssentials
import PortModel

#if canImport(Glibc)
    import Glibc
#endif

/// portctl's memory of what it applied: numbered generations, a history log, a pending
/// confirmation, the journal of a change in flight, and the lock that keeps two changes from
/// interleaving.
///
/// Layout under the state directory (`/var/lib/portctl` unless `--state-dir`):
/// `current`, `history.jsonl`, `pending.json`, `journal.json`, `persist.json`, `lock`, and
/// `generations/N/{meta.json, declaration.json, ruleset.nft, plan.json, replaced.json}`.
///
/// Every file is written to a temporary name, fsynced, renamed into place, and its directory
/// fsynced: after a crash a reader sees the old file or the new one, never half of one. What a
/// change needs to be rolled back or finished is written this way *before* the kernel commit
/// (see `Applier`), so a full disk or a read-only state directory stops a change before it starts.
public final class StateStore: Sendable {
    public static let defaultDirectory = "/var/lib/portctl"

    public let directory: String
    /// Faults to inject (tests only; none unless asked).
    public let faults: FaultPlan

    public init(directory: String, faults: FaultPlan = .none) {
        self.directory = directory
        self.faults = faults
    }

    // MARK: - Paths

    func path(_ name: String) -> String { directory + "/" + name }

    public func prepare() throws(StoreError) {
        var isDirectory = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory {
            throw .io("the state directory \(directory) is not a directory")
        }
        for (index, folder) in [directory, path("generations")].enumerated() {
            // An existing directory needs nothing, even on a read-only file system.
            var exists = false
            if FileManager.default.fileExists(atPath: folder, isDirectory: &exists), exists { continue }
            if mkdir(folder, 0o750) != 0, errno != EEXIST {
                if index == 0, errno == ENOENT {
                    do {
                        try FileManager.default.createDirectory(
                            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
                        continue
                    } catch {
                        throw .io("cannot create the state directory \(directory): \(error)")
                    }
                }
                throw .io("cannot create \(folder): \(Self.reason(errno))")
            }
        }
    }

    // MARK: - Generations

    /// The generation that is live, or 0 when portctl has nothing applied.
    public func current() -> Int {
        read("current").flatMap { Int($0.trimmingWhitespace()) } ?? 0
    }

    public func setCurrent(_ number: Int) throws(StoreError) {
        try write("current", "\(number)\n")
    }

    /// Writes the `current` a change will install once committed (`current.next`), so that
    /// recording the commit is a rename, which needs no free space.
    public func stageCurrent(_ number: Int, durable: Bool = true) throws(StoreError) {
        try write("current.next", "\(number)\n", durable: durable)
    }

    /// Installs the staged `current` when there is one (and it says `number`); otherwise writes it.
    public func installCurrent(_ number: Int) throws(StoreError) {
        for staged in ["current.next", "current.rollback"]
        where read(staged)?.trimmingWhitespace() == String(number) {
            guard rename(path(staged), path("current")) == 0 else { throw .io("cannot write \(path("current")): \(Self.reason(errno))") }
            try syncDirectory(directory)
            return
        }
        if current() == number, read("current") != nil { return }
        try setCurrent(number)
    }

    public func discardStagedCurrent() { unlink(path("current.next")) }

    /// The `current` a rollback of a pending change will install (`current.rollback`), staged at
    /// apply time, so that the rollback can be recorded on a disk that has filled up since.
    public func stageRollbackCurrent(_ number: Int) throws(StoreError) {
        try write("current.rollback", "\(number)\n")
    }

    public func discardRollbackCurrent() { unlink(path("current.rollback")) }

    public func generations() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path("generations"))) ?? []
        return names.compactMap(Int.init).sorted()
    }

    public func meta(_ number: Int) -> Meta? {
        guard let text = read("generations/\(number)/meta.json") else { return nil }
        guard let value = try? JSONValue.parse(text) else { return try? JSONDecoder().decode(Meta.self, from: Data(text.utf8)) }
        return Meta(json: value)
    }

    public func declaration(_ number: Int) -> [JSONValue]? {
        guard let text = read("generations/\(number)/declaration.json"), let value = try? JSONValue.parse(text) else { return nil }
        return value.array
    }

    public func rulesetText(_ number: Int) -> String? { read("generations/\(number)/ruleset.nft") }
    public func planJSON(_ number: Int) -> String? { read("generations/\(number)/plan.json") }

    /// Records a new generation, every file fsynced; returns its number.
    public func addGeneration(
        meta: Meta, declaration: [JSONValue], rulesetText: String, planJSON: String, replaced: String?, durable: Bool = true
    ) throws(StoreError) -> Int {
        let number = meta.generation
        let folder = path("generations/\(number)")
        if mkdir(folder, 0o750) != 0, errno != EEXIST {
            throw .io("cannot create \(folder): \(Self.reason(errno))")
        }
        // Each file is fsynced; the directory that holds them once, at the end (or all of it later,
        // by `makeDurable`, when not `durable`).
        // One line: it is read by portctl alone, and at 100,000 set elements indenting it cost more
        // than the kernel's commit. ruleset.nft is the form for people.
        try write(
            "generations/\(number)/declaration.json", JSONValue.array(declaration).compact + "\n", syncDirectory: false, durable: durable)
        try write("generations/\(number)/ruleset.nft", rulesetText, syncDirectory: false, durable: durable)
        try write("generations/\(number)/plan.json", planJSON, syncDirectory: false, durable: durable)
        // What the apply replaced, for the record, when it read it (an apply over portctl's own
        // standalone table reads no rules).
        if let replaced { try write("generations/\(number)/replaced.json", replaced, syncDirectory: false, durable: durable) }
        try write("generations/\(number)/meta.json", encode(meta), syncDirectory: false, durable: durable)
        if durable {
            try syncDirectory(folder)
            try syncDirectory(path("generations"))
        }
        return number
    }

    /// Takes out a generation that was prepared but never committed.
    public func discardGeneration(_ number: Int) {
        try? FileManager.default.removeItem(atPath: path("generations/\(number)"))
        try? syncDirectory(path("generations"))
    }

    public func updateMeta(_ meta: Meta, durable: Bool = true) throws(StoreError) {
        try write("generations/\(meta.generation)/meta.json", encode(meta), durable: durable)
    }

    /// The next generation's number: above every generation directory and every number the
    /// history names, so a number is never reused, not even one prepared and then discarded.
    public func nextGeneration() -> Int { max(generations().last ?? 0, highestRecordedGeneration()) + 1 }
}
