import FoundationEssentials

/// The rollback timer's process, as recorded in a pending change.
public enum Watchdog {
    /// True when the recorded process is alive and is that change's watchdog (its command line
    /// carries the token), so a reused pid does not count.
    public static func isAlive(_ pending: StateStore.Pending) -> Bool {
        guard pending.watchdog > 0, let data = FileManager.default.contents(atPath: "/proc/\(pending.watchdog)/cmdline") else {
            return false
        }
        let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard words.contains("_watchdog"), words.contains(pending.token) else { return false }
        // A zombie (killed, not yet reaped) is not alive.
        if let stat = FileManager.default.contents(atPath: "/proc/\(pending.watchdog)/stat"),
            let close = stat.lastIndex(of: UInt8(ascii: ")")),
            stat.count > close + 2, stat[close + 2] == UInt8(ascii: "Z")
        {
            return false
        }
        return true
    }
}
