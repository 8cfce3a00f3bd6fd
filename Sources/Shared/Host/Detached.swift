import Foundation

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

    public static func spawn(_ executable: String, _ arguments: [String]) throws -> Int32 {
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
        for descriptor in [Int32(0), 1, 2] {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
        }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard status == 0 else {
            throw NSError(domain: "posix_spawn", code: Int(status), userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(status))])
        }
        return pid
    }
}
