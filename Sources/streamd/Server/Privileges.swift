#if canImport(Glibc)
    import Glibc
#endif

/// Drops root after the low ports are bound: every request is served as an unprivileged user.
enum Privileges {
    enum Failure: Error, CustomStringConvertible {
        case unknownUser(String)
        case failed(String)
        var description: String {
            switch self {
            case .unknownUser(let name): return "--user: no such user '\(name)'"
            case .failed(let what): return "could not drop privileges: \(what)"
            }
        }
    }

    /// Becomes `user` (and its primary group) when running as root; does nothing otherwise.
    /// Returns the user it now runs as.
    static func drop(to user: String) throws(Failure) -> String {
        guard geteuid() == 0 else { return String(cString: getpwuid(geteuid())?.pointee.pw_name ?? strdup("?")) }
        guard let entry = getpwnam(user) else { throw .unknownUser(user) }
        let uid = entry.pointee.pw_uid
        let gid = entry.pointee.pw_gid
        if uid == 0 { return user }  // --user root: the admin asked to keep root
        guard setgroups(0, nil) == 0 else { throw .failed("setgroups: \(String(cString: strerror(errno)))") }
        guard setgid(gid) == 0 else { throw .failed("setgid: \(String(cString: strerror(errno)))") }
        guard setuid(uid) == 0 else { throw .failed("setuid: \(String(cString: strerror(errno)))") }
        guard setuid(0) != 0 else { throw .failed("root could be regained") }
        return user
    }
}
