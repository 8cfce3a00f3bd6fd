import FoundationEssentials
import PortModel

#if canImport(Glibc)
    import Glibc
#endif

extension StateStore {
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
                throw .busy(
                    "busy: another portctl is changing the firewall (lock \(path("lock"))); try again, or wait longer with --wait SECONDS")
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
    /// never sees half a file, and a file this returns for is on disk. Not `durable`, the fsyncs
    /// are left to `makeDurable` (a reader still never sees half a file; only a crash of the
    /// machine could lose it).
    func write(_ name: String, _ text: String, syncDirectory sync: Bool = true, durable: Bool = true) throws(StoreError) {
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
        if failure == 0, durable, fsync(descriptor) != 0 { failure = errno }
        close(descriptor)
        if failure == 0, faults.shouldFail("state.write") { failure = EIO }
        guard failure == 0 else {
            unlink(temporary)
            throw .io("cannot write \(target): \(Self.reason(failure))")
        }
        guard rename(temporary, target) == 0 else {
            let code = errno
            unlink(temporary)
            throw .io("cannot write \(target): \(Self.reason(code))")
        }
        if sync, durable { try syncDirectory(Path.parent(target)) }
    }

    /// Makes durable what an apply wrote without fsync before its commit: the files of generation
    /// `number`, its folder, and the staged `current.next` and `persist.next` (renamed into place
    /// later). Run first when a change is finalized, so nothing is installed before it is on disk.
    public func makeDurable(generation number: Int) throws(StoreError) {
        try sync(files: try filesToMakeDurable(generation: number))
        try syncFolders(generation: number)
    }

    /// What `makeDurable` fsyncs, relative to the state directory: the generation's files, and
    /// the staged `current.next` and `persist.next` that exist.
    func filesToMakeDurable(generation number: Int) throws(StoreError) -> [String] {
        var files: [String] = []
        if number > 0 {
            let folder = "generations/\(number)"
            var names: [String] = []
            // A generation folder that cannot be listed is a failure; one that is gone has nothing.
            guard let directory = opendir(path(folder)) else {
                guard errno == ENOENT else { throw .io("cannot read \(path(folder)): \(Self.reason(errno))") }
                return ["current.next", "persist.next"].filter { access(path($0), F_OK) == 0 }
            }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != ".", name != "..", !name.contains(".tmp.") { names.append(name) }
            }
            files += names.sorted().map { "\(folder)/\($0)" }
        }
        return files + ["current.next", "persist.next"].filter { access(path($0), F_OK) == 0 }
    }

    /// fsyncs each file (relative to the state directory); one gone meanwhile (a finish that
    /// already installed it) has nothing left to make durable, and any other failure is one.
    func sync(files: [String]) throws(StoreError) {
        for name in files {
            let descriptor = open(path(name), O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                if errno == ENOENT { continue }
                throw .io("cannot sync \(path(name)): \(Self.reason(errno))")
            }
            defer { close(descriptor) }
            guard fsync(descriptor) == 0 else { throw .io("cannot sync \(path(name)): \(Self.reason(errno))") }
        }
    }

    /// fsyncs the folders that hold generation `number`'s files and the staged ones.
    func syncFolders(generation number: Int) throws(StoreError) {
        if number > 0, access(path("generations/\(number)"), F_OK) == 0 {
            try syncDirectory(path("generations/\(number)"))
            try syncDirectory(path("generations"))
        }
        try syncDirectory(directory)
    }

    /// Removes a file (a missing one is fine) and makes the removal durable.
    func remove(_ name: String) throws(StoreError) {
        let target = path(name)
        guard unlink(target) == 0 || errno == ENOENT else { throw .io("cannot remove \(target): \(Self.reason(errno))") }
        try syncDirectory(Path.parent(target))
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

    /// `2026-12-02T03:30:00Z`: what `Date.ISO8601FormatStyle()` writes, from gmtime_r (the format
    /// style reads the time zone database first, a tenth of a millisecond of every apply).
    public static func timestamp(_ date: Date = Date()) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return Date.ISO8601FormatStyle().format(date) }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : String(value) }
        let year = String(parts.tm_year + 1900)
        return "\(String(repeating: "0", count: max(0, 4 - year.count)))\(year)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
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
