import FoundationEssentials
import PortModel

#if canImport(Glibc)
    import Glibc
#endif

extension StateStore {
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
    public func stagePersisted(_ batch: JSONValue, durable: Bool = true) throws(StoreError) {
        try write("persist.next", batch.pretty, durable: durable)
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
}
