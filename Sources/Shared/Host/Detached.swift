import FoundationEssentials
import PortModel
import PortPlanning

#if canImport(Glibc)
    import Glibc
#endif

/// Starts a process in a session of its own, with no terminal and standard streams on /dev/null,
/// so that it lives on when the process that started it dies, SIGKILL included.
public enum Detached {
    /// glibc's POSIX_SPAWN_SETSID, which Swift does not import (it sits behind _GNU_SOURCE).
    static let setsidFlag: Int32 = 0x80

    /// This program's own executable.
    public static var selfExecutable: String {
        readLink("/proc/self/exe") ?? CommandLine.arguments[0]
    }

    /// Starts `executable` detached. With `standardInput`, that descriptor becomes the child's
    /// standard input (the read end of a pipe whose write end the caller keeps: the child sees
    /// end-of-file when the caller dies); otherwise it reads /dev/null.
    public static func spawn(_ executable: String, _ arguments: [String], standardInput: Int32? = nil) throws -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGHUP)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(setsidFlag | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let standardInput {
            posix_spawn_file_actions_adddup2(&actions, standardInput, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        for descriptor in [Int32(1), 2] {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_WRONLY, 0)
        }
        // Nothing else the parent has open (a caller's pipe, a terminal) may stay open in a process
        // that outlives it: that would hold the caller's pipe open, and its reader would wait.
        addCloseFrom(&actions, 3)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard status == 0 else {
            throw SpawnError(call: "posix_spawn", code: status)
        }
        return pid
    }

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34 and later), which Swift does not
    /// import: looked up at run time, and skipped where the C library lacks it.
    static func addCloseFrom(_ actions: inout posix_spawn_file_actions_t, _ lowest: Int32) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, lowest)
    }

    /// Starts `executable` detached with a lifeline: a pipe whose read end is the child's standard
    /// input and whose write end (close-on-exec) stays with this process. The child sees
    /// end-of-file on its standard input once this process is gone, however it ends.
    public static func spawnWithLifeline(_ executable: String, _ arguments: [String]) throws -> (pid: Int32, lifeline: Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw SpawnError(call: "pipe", code: errno)
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(fds[0]) }
        do {
            let pid = try spawn(executable, arguments, standardInput: fds[0])
            return (pid, fds[1])
        } catch {
            close(fds[1])
            throw error
        }
    }
}

/// A system call that could not start a process, and the C library's words for why.
public struct SpawnError: Error, CustomStringConvertible {
    public let call: String
    public let code: Int32
    public var description: String { "\(call): \(String(cString: strerror(code)))" }
}
