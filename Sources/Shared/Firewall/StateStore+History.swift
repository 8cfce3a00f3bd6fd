import FoundationEssentials
import PortModel

#if canImport(Glibc)
    import Glibc
#endif

extension StateStore {
    // MARK: - History

    public func record(_ event: String, generation: Int, detail: String = "", token: String? = nil, id: String? = nil) throws(StoreError) {
        let entry = Event(time: Self.timestamp(), event: event, generation: generation, detail: detail, token: token, id: id)
        let line = String(decoding: (try? JSONEncoder.sorted.encode(entry)) ?? Data(), as: UTF8.self) + "\n"
        let target = path("history.jsonl")
        if faults.shouldFail("state.history") { throw .io("cannot write \(target): injected fault") }
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
}
