import Foundation

#if canImport(Glibc)
import Glibc
import PortModel
import PortPlanning
import PlanRendering
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

    public init(directory: String) {
        self.directory = directory
    }

    /// What a generation records about itself.
    public struct Meta: Codable, Sendable, Hashable {
        public var generation: Int
        public var time: String
        public var placement: String
        public var profiles: [String]
        public var options: [String]
        public var command: [String]
        public var forced: Bool
        public var persist: Bool
        /// The generation that was live before this one; 0 when nothing was.
        public var previous: Int
        /// `Fingerprint.of` the live listing once committed; empty until then.
        public var fingerprint: String
        /// `JSONValue.digest` of the declaration, so a re-apply can tell "same plan" without reading it.
        public var declarationDigest: String?
    }

    /// One line of the history log.
    public struct Event: Codable, Sendable, Hashable {
        public var time: String
        public var event: String
        public var generation: Int
        public var detail: String
        /// The pending change this event settled (confirm, rollback, auto-rollback, remove), so an
        /// `apply --confirm` reports its own outcome and never an older one.
        public var token: String?
        /// The journal entry that recorded it: a change finished twice is recorded once.
        public var id: String?

        public init(time: String, event: String, generation: Int, detail: String, token: String? = nil, id: String? = nil) {
            self.time = time
            self.event = event
            self.generation = generation
            self.detail = detail
            self.token = token
            self.id = id
        }
    }

    /// A change waiting for `portctl confirm`.
    public struct Pending: Codable, Sendable, Hashable {
        public var generation: Int
        /// What a rollback restores: a generation number, or 0 for "nothing".
        public var restore: Int
        /// Seconds since 1970.
        public var deadline: Double
        public var token: String
        /// The rollback timer's process.
        public var watchdog: Int32
        /// The boot the change was made in (`/proc/sys/kernel/random/boot_id`): after a restart the
        /// kernel no longer holds it, and the record is settled as such.
        public var bootID: String?
        /// The deadline again, on CLOCK_BOOTTIME (seconds since boot), which no clock step moves:
        /// the change rolls back at whichever deadline comes first.
        public var bootDeadline: Double?

        public init(
            generation: Int, restore: Int, deadline: Double, token: String, watchdog: Int32, bootID: String? = nil, bootDeadline: Double? = nil
        ) {
            self.generation = generation
            self.restore = restore
            self.deadline = deadline
            self.token = token
            self.watchdog = watchdog
            self.bootID = bootID
            self.bootDeadline = bootDeadline
        }

        /// Whether the deadline has passed, by the wall clock or, in the same boot, by CLOCK_BOOTTIME.
        public func hasExpired(now: Double = Date().timeIntervalSince1970, boottime: Double = StateStore.boottime(), boot: String? = StateStore.bootID())
            -> Bool
        {
            if now >= deadline { return true }
            if let bootDeadline, let bootID, bootID == boot, boottime >= bootDeadline { return true }
            return false
        }
    }

    /// This boot's id, or nil where the kernel does not say.
    public static func bootID() -> String? {
        FileManager.default.contents(atPath: "/proc/sys/kernel/random/boot_id")
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Seconds since boot on CLOCK_BOOTTIME: monotonic, counts suspend, and no clock step moves it.
    public static func boottime() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// What reading pending.json found: nothing, a record, or a file that could not be read (which
    /// is not the same as no record: a watchdog must not leave because of a failed read).
    public enum PendingRead: Sendable, Equatable {
        case absent
        case present(Pending)
        case unreadable
    }

    /// A change in flight: written (and fsynced) before the kernel commit, removed once the state
    /// says what the kernel holds. A journal left behind by a process that died in between is
    /// settled by the next portctl that takes the lock (`Applier.recover`).
    public struct Journal: Codable, Sendable, Hashable {
        /// "apply" (a new generation) or "restore" (rollback, auto-rollback, remove).
        public var operation: String
        public var id: String
        /// The generation the commit makes live; 0 for nothing.
        public var generation: Int
        /// The generation that was current before.
        public var previous: Int
        /// The history event to record once committed, and its detail.
        public var event: String
        public var detail: String
        /// The pending change this settles, or (for an apply with --confirm) starts.
        public var token: String?
        /// The placement whose objects the commit changes, as `Placement.description`.
        public var placement: String
        /// `Fingerprint.digest` of portctl's live objects before the commit: if the kernel still
        /// shows exactly this, the commit did not happen.
        public var before: String
        /// What persist.json should hold afterwards: "keep", "write" (persist.next is staged) or "remove".
        public var persist: String
        /// The boot the journal was written in: one from an earlier boot is never finished, since
        /// the kernel it describes is gone.
        public var bootID: String?

        public init(
            operation: String, id: String = UUID().uuidString, generation: Int, previous: Int, event: String, detail: String,
            token: String?, placement: String, before: String, persist: String
        ) {
            self.operation = operation
            self.id = id
            self.generation = generation
            self.previous = previous
            self.event = event
            self.detail = detail
            self.token = token
            self.placement = placement
            self.before = before
            self.persist = persist
            self.bootID = StateStore.bootID()
        }
    }

    public enum StoreError: Error, CustomStringConvertible {
        case io(String)
        case busy(String)

        public var description: String {
            switch self {
            case .io(let message), .busy(let message): return message
            }
        }
    }

    // MARK: - Paths

    func path(_ name: String) -> String { directory + "/" + name }
    func generationPath(_ number: Int, _ name: String) -> String { path("generations/\(number)/\(name)") }

    public func prepare() throws(StoreError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw .io("the state directory \(directory) is not a directory")
        }
        for (index, folder) in [directory, path("generations")].enumerated() {
            // An existing directory needs nothing, even on a read-only file system.
            var exists: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder, isDirectory: &exists), exists.boolValue { continue }
            if mkdir(folder, 0o750) != 0, errno != EEXIST {
                if index == 0, errno == ENOENT {
                    do {
                        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
                        continue
                    } catch {
                        throw .io("cannot create the state directory \(directory): \(error.localizedDescription)")
                    }
                }
                throw .io("cannot create \(folder): \(Self.reason(errno))")
            }
        }
    }

    // MARK: - Generations

    /// The generation that is live, or 0 when portctl has nothing applied.
    public func current() -> Int {
        read("current").flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    }

    public func setCurrent(_ number: Int) throws(StoreError) {
        try write("current", "\(number)\n")
    }

    /// Writes the `current` a change will install once committed (`current.next`), so that
    /// recording the commit is a rename, which needs no free space.
    public func stageCurrent(_ number: Int) throws(StoreError) {
        try write("current.next", "\(number)\n")
    }

    /// Installs the staged `current` when there is one (and it says `number`); otherwise writes it.
    public func installCurrent(_ number: Int) throws(StoreError) {
        for staged in ["current.next", "current.rollback"] where read(staged)?.trimmingCharacters(in: .whitespacesAndNewlines) == String(number) {
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
        return try? JSONDecoder().decode(Meta.self, from: Data(text.utf8))
    }

    public func declaration(_ number: Int) -> [JSONValue]? {
        guard let text = read("generations/\(number)/declaration.json"), let value = try? JSONValue.parse(text) else { return nil }
        return value.array
    }

    public func rulesetText(_ number: Int) -> String? { read("generations/\(number)/ruleset.nft") }
    public func planJSON(_ number: Int) -> String? { read("generations/\(number)/plan.json") }

    /// Records a new generation, every file fsynced; returns its number.
    public func addGeneration(
        meta: Meta, declaration: [JSONValue], rulesetText: String, planJSON: String, replaced: String
    ) throws(StoreError) -> Int {
        let number = meta.generation
        let folder = path("generations/\(number)")
        if mkdir(folder, 0o750) != 0, errno != EEXIST {
            throw .io("cannot create \(folder): \(Self.reason(errno))")
        }
        // Each file is fsynced; the directory that holds them once, at the end.
        try write("generations/\(number)/declaration.json", JSONValue.array(declaration).pretty, syncDirectory: false)
        try write("generations/\(number)/ruleset.nft", rulesetText, syncDirectory: false)
        try write("generations/\(number)/plan.json", planJSON, syncDirectory: false)
        try write("generations/\(number)/replaced.json", replaced, syncDirectory: false)
        try write("generations/\(number)/meta.json", encode(meta), syncDirectory: false)
        try syncDirectory(folder)
        try syncDirectory(path("generations"))
        return number
    }

    /// Takes out a generation that was prepared but never committed.
    public func discardGeneration(_ number: Int) {
        try? FileManager.default.removeItem(atPath: path("generations/\(number)"))
        try? syncDirectory(path("generations"))
    }

    public func updateMeta(_ meta: Meta) throws(StoreError) {
        try write("generations/\(meta.generation)/meta.json", encode(meta))
    }

    /// The next generation's number: above every generation directory and every number the
    /// history names, so a number is never reused, not even one prepared and then discarded.
    public func nextGeneration() -> Int { max(generations().last ?? 0, history().map(\.generation).max() ?? 0) + 1 }

    // MARK: - History

    public func record(_ event: String, generation: Int, detail: String = "", token: String? = nil, id: String? = nil) throws(StoreError) {
        let entry = Event(time: Self.timestamp(), event: event, generation: generation, detail: detail, token: token, id: id)
        let line = String(decoding: (try? JSONEncoder.sorted.encode(entry)) ?? Data(), as: UTF8.self) + "\n"
        let target = path("history.jsonl")
        if Fault.shouldFail("state.history") { throw .io("cannot write \(target): injected fault") }
        let descriptor = open(target, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw .io("cannot write \(target): \(Self.reason(errno))") }
        defer { close(descriptor) }
        // Where the file ends now: a failed or short append is cut back to it, so that a half line
        // never glues itself to the next event. A file that ends mid-line (a crash) gets a newline first.
        var info = stat()
        let size = fstat(descriptor, &info) == 0 ? info.st_size : 0
        var endsMidLine = false
        if size > 0 {
            var last: UInt8 = 0
            endsMidLine = pread(descriptor, &last, 1, size - 1) == 1 && last != 10
        }
        let bytes = (endsMidLine ? [10] : []) + Array(line.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            let code = written < 0 ? errno : ENOSPC
            _ = ftruncate(descriptor, size)
            throw .io("cannot write \(target): \(Self.reason(code))")
        }
        guard fsync(descriptor) == 0 else {
            let code = errno
            _ = ftruncate(descriptor, size)
            throw .io("cannot write \(target): \(Self.reason(code))")
        }
    }

    public func history() -> [Event] {
        guard let text = read("history.jsonl") else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Event.self, from: Data($0.utf8)) }
    }

    /// The event that settled the pending change `token`, if any.
    public func outcome(token: String) -> Event? {
        history().last { $0.token == token && Self.settlingEvents.contains($0.event) }
    }

    /// Events that end a pending change.
    public static let settlingEvents: Set<String> = ["confirm", "rollback", "auto-rollback", "auto-rollback-failed", "remove"]

    // MARK: - Pending confirmation

    public func pending() -> Pending? {
        if case .present(let pending) = pendingState() { return pending }
        return nil
    }

    public func pendingState() -> PendingRead {
        guard let data = FileManager.default.contents(atPath: path("pending.json")) else {
            return access(path("pending.json"), F_OK) != 0 && errno == ENOENT ? .absent : .unreadable
        }
        guard let pending = try? JSONDecoder().decode(Pending.self, from: data) else { return .unreadable }
        return .present(pending)
    }

    public func setPending(_ pending: Pending?) throws(StoreError) {
        if let pending {
            try write("pending.json", encode(pending))
        } else {
            try remove("pending.json")
        }
    }

    // MARK: - Journal

    public func journal() -> Journal? {
        guard let text = read("journal.json") else { return nil }
        return try? JSONDecoder().decode(Journal.self, from: Data(text.utf8))
    }

    /// True when a journal file exists, even one that does not parse.
    public var hasJournal: Bool { FileManager.default.fileExists(atPath: path("journal.json")) }

    public func setJournal(_ journal: Journal?) throws(StoreError) {
        if let journal {
            try write("journal.json", encode(journal))
        } else {
            try remove("journal.json")
        }
    }

    // MARK: - Persistence

    public var persistPath: String { path("persist.json") }

    public func setPersisted(_ batch: JSONValue?) throws(StoreError) {
        if let batch {
            try write("persist.json", batch.pretty)
        } else {
            try remove("persist.json")
        }
    }

    /// Writes the boot copy a change will install once committed (`persist.next`).
    public func stagePersisted(_ batch: JSONValue) throws(StoreError) {
        try write("persist.next", batch.pretty)
    }

    /// Moves the staged boot copy into place: a rename, which needs no free space.
    ///
    /// Idempotent: with nothing staged (a finish that already ran this step), there is nothing to do.
    public func installStagedPersisted() throws(StoreError) {
        guard access(path("persist.next"), F_OK) == 0 else { return }
        guard rename(path("persist.next"), persistPath) == 0 else {
            throw .io("cannot write \(persistPath): \(Self.reason(errno))")
        }
        try syncDirectory(directory)
    }

    public func discardStagedPersisted() { unlink(path("persist.next")) }

    /// The boot copy of a change applied with --confirm --persist, staged at apply time and
    /// installed when it is confirmed (`persist.confirm`), so confirming needs only a rename.
    public func stageConfirmedPersisted(_ batch: JSONValue) throws(StoreError) {
        try write("persist.confirm", batch.pretty)
    }

    /// Installs the staged boot copy of a confirmed change; false when none was staged.
    public func installConfirmedPersisted() throws(StoreError) -> Bool {
        guard access(path("persist.confirm"), F_OK) == 0 else { return false }
        guard rename(path("persist.confirm"), persistPath) == 0 else {
            throw .io("cannot write \(persistPath): \(Self.reason(errno))")
        }
        try syncDirectory(directory)
        return true
    }

    public func discardConfirmedPersisted() { unlink(path("persist.confirm")) }

    public var isPersisted: Bool { FileManager.default.fileExists(atPath: persistPath) }

    // MARK: - Lock

    /// An exclusive lock on the state directory, held until released or the process ends.
    public final class Lock: @unchecked Sendable {
        let descriptor: Int32
        private var released = false
        init(descriptor: Int32) { self.descriptor = descriptor }
        public func release() {
            guard !released else { return }
            released = true
            flock(descriptor, LOCK_UN)
            close(descriptor)
        }
        deinit { release() }
    }

    /// Takes the lock, waiting up to `wait` seconds for another portctl to finish.
    ///
    /// On a state directory that has become read-only or full, the existing lock file is opened
    /// read-only: flock(2) needs no write access, so a rollback can still be serialised.
    public func lock(wait: Double) throws(StoreError) -> Lock {
        try prepare()
        var descriptor = open(path("lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        if descriptor < 0 { descriptor = open(path("lock"), O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0 else { throw .io("cannot open \(path("lock")): \(Self.reason(errno))") }
        let deadline = Date().addingTimeInterval(max(0, wait))
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if Date() >= deadline {
                close(descriptor)
                throw .busy("busy: another portctl is changing the firewall (lock \(path("lock"))); try again, or wait longer with --wait SECONDS")
            }
            usleep(20_000)
        }
        return Lock(descriptor: descriptor)
    }

    // MARK: - Files

    func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: path(name)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes through a temporary file, fsync and a rename, then fsyncs the directory: a reader
    /// never sees half a file, and a file this returns for is on disk.
    func write(_ name: String, _ text: String, syncDirectory sync: Bool = true) throws(StoreError) {
        let target = path(name)
        let temporary = target + ".tmp.\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw .io("cannot write \(target): \(Self.reason(errno))") }
        let bytes = Array(text.utf8)
        var offset = 0
        var failure: Int32 = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            if written == 0 {
                failure = ENOSPC
                break
            }
            offset += written
        }
        if failure == 0, fsync(descriptor) != 0 { failure = errno }
        close(descriptor)
        if failure == 0, Fault.shouldFail("state.write") { failure = EIO }
        guard failure == 0 else {
            unlink(temporary)
            throw .io("cannot write \(target): \(Self.reason(failure))")
        }
        guard rename(temporary, target) == 0 else {
            let code = errno
            unlink(temporary)
            throw .io("cannot write \(target): \(Self.reason(code))")
        }
        if sync { try syncDirectory((target as NSString).deletingLastPathComponent) }
    }

    /// Removes a file (a missing one is fine) and makes the removal durable.
    func remove(_ name: String) throws(StoreError) {
        let target = path(name)
        guard unlink(target) == 0 || errno == ENOENT else { throw .io("cannot remove \(target): \(Self.reason(errno))") }
        try syncDirectory((target as NSString).deletingLastPathComponent)
    }

    func syncDirectory(_ folder: String) throws(StoreError) {
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io("cannot open \(folder): \(Self.reason(errno))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 || errno == EINVAL else { throw .io("cannot sync \(folder): \(Self.reason(errno))") }
    }

    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOSPC: return "no space left on the device"
        case EROFS: return "the file system is read-only"
        case EPERM, EACCES: return "\(String(cString: strerror(code))) (an immutable or protected file or directory?)"
        default: return String(cString: strerror(code))
        }
    }

    func encode<T: Encodable>(_ value: T) -> String {
        String(decoding: (try? JSONEncoder.pretty.encode(value)) ?? Data(), as: UTF8.self) + "\n"
    }

    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static var pretty: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }
}
