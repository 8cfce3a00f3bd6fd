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
        return Self.events(text[...])
    }

    /// Whether an event with this id is among the last 64 KiB of the history: how a journal tells it
    /// was recorded, without decoding years of history. Ids are UUIDs, written as `"id":"UUID"`.
    public func hasRecorded(id: String) -> Bool {
        let (text, _) = historyTail()
        return text.contains("\"id\":\"\(id)\"")
    }

    /// The highest generation number the history names: every number in the last 64 KiB (numbers
    /// only grow, so the highest is among the latest), or in the whole file when the tail names none.
    public func highestRecordedGeneration() -> Int {
        let (tail, whole) = historyTail()
        let numbers = Self.generationNumbers(tail)
        if let highest = numbers.max() { return highest }
        return whole ? 0 : (history().map(\.generation).max() ?? 0)
    }

    /// The `"generation":N` values in history text, by scanning: the encoder writes sorted keys
    /// without spaces, and no other field is named so.
    static func generationNumbers(_ text: String) -> [Int] {
        var result: [Int] = []
        var rest = Substring(text)
        let marker = "\"generation\":"
        while let range = rest.firstRange(of: marker) {
            rest = rest[range.upperBound...]
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            if let number = Int(digits) { result.append(number) }
        }
        return result
    }

    /// The last 64 KiB of the history, and whether that is all of it.
    func historyTail(bytes: Int = 64 * 1024) -> (String, whole: Bool) {
        let target = path("history.jsonl")
        let descriptor = open(target, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return ("", true) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return ("", true) }
        let size = Int(info.st_size)
        let start = max(0, size - bytes)
        var buffer = [UInt8](repeating: 0, count: size - start)
        let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(start)) }
        guard got == buffer.count else { return (read("history.jsonl") ?? "", true) }
        // The first line may begin before the tail: it is kept, since what these searches look for
        // (an id, a generation) is whole wherever it appears, and the line that holds the latest
        // event may be longer than the tail (a long command line).
        return (String(decoding: buffer, as: UTF8.self), start == 0)
    }

    static func events(_ text: Substring) -> [Event] {
        let decoder = JSONDecoder()
        return text.split(separator: "\n").compactMap { try? decoder.decode(Event.self, from: Data($0.utf8)) }
    }

    /// The event that settled the pending change `token`, if any.
    public func outcome(token: String) -> Event? {
        history().last { $0.token == token && Self.settlingEvents.contains($0.event) }
    }

    /// Events that end a pending change.
    public static let settlingEvents: Set<String> = ["confirm", "rollback", "auto-rollback", "auto-rollback-failed", "remove"]
}
