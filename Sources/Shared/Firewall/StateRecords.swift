import FoundationEssentials
import PortModel

#if canImport(Glibc)
    import Glibc
#endif

extension StateStore {
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
        /// The digest of the generation's nft text (`JSONValue.digest(ofText:)`), so a re-apply can
        /// tell "same plan" without reading or rendering the declaration. (Before issue 13 it was the
        /// digest of the JSON declaration; a generation recorded then is re-applied once.)
        public var declarationDigest: String?
        /// `Applier.kernelMark` right after the commit, when that commit was the kernel's only one
        /// since the apply began: while the kernel still shows this mark, nothing anywhere in its
        /// ruleset has changed, so a re-apply is a no-op without reading a single rule.
        public var kernelMark: String?
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
            generation: Int, restore: Int, deadline: Double, token: String, watchdog: Int32, bootID: String? = nil,
            bootDeadline: Double? = nil
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
        public func hasExpired(
            now: Double = Date().timeIntervalSince1970, boottime: Double = StateStore.boottime(), boot: String? = StateStore.bootID()
        )
            -> Bool
        {
            if now >= deadline { return true }
            if let bootDeadline, let bootID, bootID == boot, boottime >= bootDeadline { return true }
            return false
        }
    }

    /// This boot's id, or nil where the kernel does not say. Read once: a process lives in one boot.
    public static func bootID() -> String? { currentBootID }

    private static let currentBootID: String? = FileManager.default.contents(atPath: "/proc/sys/kernel/random/boot_id")
        .map { String(decoding: $0, as: UTF8.self).trimmingWhitespace() }

    /// A random (version 4) UUID from the standard library's generator (getrandom(2), two calls):
    /// FoundationEssentials' `UUID()` opens, reads and closes /dev/urandom for each one.
    public static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        for _ in 0..<2 {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let b = bytes
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])).uuidString
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
        /// When `before` is empty (a standalone apply that read no rules): the kernel's ruleset
        /// generation and the handle of portctl's table (0: none) before the commit. The commit
        /// replaces the table, so it happened exactly when the table has a new handle.
        public var beforeGeneration: UInt32?
        public var beforeHandle: Int?
        /// `Applier.kernelPlace` (boot and network namespace) when the journal was written: a
        /// journal from another namespace is never finished here.
        public var beforePlace: String?
        /// Read the committed objects back for the generation's fingerprint (false for plans too
        /// large for that to be cheap; `status` fills it in later).
        public var readBack: Bool?
        /// The boot the journal was written in: one from an earlier boot is never finished, since
        /// the kernel it describes is gone.
        public var bootID: String?

        public init(
            operation: String, id: String = StateStore.randomID(), generation: Int, previous: Int, event: String, detail: String,
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
}

extension StateStore.Meta {
    /// From meta.json as the byte parser reads it (JSONDecoder's Codable path cost an apply
    /// 0.2-0.3 ms here); nil where JSONDecoder would fail: a required key missing or of
    /// another type. Optional keys may be absent or null.
    public init?(json: JSONValue) {
        func strings(_ key: String) -> [String]? {
            guard let items = json[key]?.array else { return nil }
            let texts = items.compactMap(\.string)
            return texts.count == items.count ? texts : nil
        }
        func flag(_ key: String) -> Bool? {
            if case .bool(let value)? = json[key] { return value }
            return nil
        }
        func optional(_ key: String) -> String?? {
            switch json[key] {
            case nil, .null?: return .some(nil)
            case .string(let value)?: return .some(value)
            default: return nil
            }
        }
        guard case .object = json, let generation = json["generation"]?.int, let time = json["time"]?.string,
            let placement = json["placement"]?.string, let profiles = strings("profiles"), let options = strings("options"),
            let command = strings("command"), let forced = flag("forced"), let persist = flag("persist"),
            let previous = json["previous"]?.int, let fingerprint = json["fingerprint"]?.string,
            let declarationDigest = optional("declarationDigest"), let kernelMark = optional("kernelMark")
        else { return nil }
        self.init(
            generation: generation, time: time, placement: placement, profiles: profiles, options: options, command: command,
            forced: forced, persist: persist, previous: previous, fingerprint: fingerprint, declarationDigest: declarationDigest,
            kernelMark: kernelMark)
    }
}
