import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// portctl's memory of what it applied: numbered generations, a history log, a pending
/// confirmation, and the lock that keeps two applies from interleaving.
///
/// Layout under the state directory (`/var/lib/portctl` unless `--state-dir`):
/// `current`, `history.jsonl`, `pending.json`, `persist.json`, `lock`, and
/// `generations/N/{meta.json, declaration.json, ruleset.nft, plan.json, replaced.json}`.
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
    }

    /// A change waiting for `portctl confirm`.
    public struct Pending: Codable, Sendable, Hashable {
        public var generation: Int
        /// What a rollback restores: a generation number, or 0 for "nothing".
        public var restore: Int
        /// Seconds since 1970.
        public var deadline: Double
        public var token: String
        public var watchdog: Int32

        public init(generation: Int, restore: Int, deadline: Double, token: String, watchdog: Int32) {
            self.generation = generation
            self.restore = restore
            self.deadline = deadline
            self.token = token
            self.watchdog = watchdog
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
        do {
            try FileManager.default.createDirectory(atPath: path("generations"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw .io("cannot create the state directory \(directory): \(error.localizedDescription)")
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

    /// Records a new generation; returns its number.
    public func addGeneration(
        meta: Meta, declaration: [JSONValue], rulesetText: String, planJSON: String, replaced: String
    ) throws(StoreError) -> Int {
        let number = meta.generation
        do {
            try FileManager.default.createDirectory(atPath: path("generations/\(number)"), withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create \(path("generations/\(number)")): \(error.localizedDescription)")
        }
        try write("generations/\(number)/declaration.json", JSONValue.array(declaration).pretty)
        try write("generations/\(number)/ruleset.nft", rulesetText)
        try write("generations/\(number)/plan.json", planJSON)
        try write("generations/\(number)/replaced.json", replaced)
        try write("generations/\(number)/meta.json", encode(meta))
        return number
    }

    public func updateMeta(_ meta: Meta) throws(StoreError) {
        try write("generations/\(meta.generation)/meta.json", encode(meta))
    }

    public func nextGeneration() -> Int { (generations().last ?? 0) + 1 }

    // MARK: - History

    public func record(_ event: String, generation: Int, detail: String = "") throws(StoreError) {
        let entry = Event(time: Self.timestamp(), event: event, generation: generation, detail: detail)
        let line = String(decoding: (try? JSONEncoder.sorted.encode(entry)) ?? Data(), as: UTF8.self) + "\n"
        guard let handle = FileHandle(forWritingAtPath: path("history.jsonl")) ?? {
            _ = FileManager.default.createFile(atPath: path("history.jsonl"), contents: nil)
            return FileHandle(forWritingAtPath: path("history.jsonl"))
        }() else { throw .io("cannot write \(path("history.jsonl"))") }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        handle.write(Data(line.utf8))
    }

    public func history() -> [Event] {
        guard let text = read("history.jsonl") else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Event.self, from: Data($0.utf8)) }
    }

    // MARK: - Pending confirmation

    public func pending() -> Pending? {
        guard let text = read("pending.json") else { return nil }
        return try? JSONDecoder().decode(Pending.self, from: Data(text.utf8))
    }

    public func setPending(_ pending: Pending?) throws(StoreError) {
        if let pending {
            try write("pending.json", encode(pending))
        } else {
            try? FileManager.default.removeItem(atPath: path("pending.json"))
        }
    }

    // MARK: - Persistence

    public var persistPath: String { path("persist.json") }

    public func setPersisted(_ batch: JSONValue?) throws(StoreError) {
        if let batch {
            try write("persist.json", batch.pretty)
        } else {
            try? FileManager.default.removeItem(atPath: persistPath)
        }
    }

    public var isPersisted: Bool { FileManager.default.fileExists(atPath: persistPath) }

    // MARK: - Lock

    /// An exclusive lock on the state directory, held until released or the process ends.
    public final class Lock: @unchecked Sendable {
        let descriptor: Int32
        init(descriptor: Int32) { self.descriptor = descriptor }
        public func release() {
            flock(descriptor, LOCK_UN)
            close(descriptor)
        }
        deinit { close(descriptor) }
    }

    /// Takes the lock, waiting up to `wait` seconds for another portctl to finish.
    public func lock(wait: Double) throws(StoreError) -> Lock {
        try prepare()
        let descriptor = open(path("lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw .io("cannot open \(path("lock")): \(String(cString: strerror(errno)))") }
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

    /// Writes through a temporary file and a rename, so a reader never sees half a file.
    func write(_ name: String, _ text: String) throws(StoreError) {
        let target = path(name)
        let temporary = target + ".tmp.\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o640]) else {
            throw .io("cannot write \(target)")
        }
        guard rename(temporary, target) == 0 else {
            unlink(temporary)
            throw .io("cannot write \(target): \(String(cString: strerror(errno)))")
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
