import FoundationEssentials
import Glibc
import KnockAuth
import PlanRendering
import PortModel
import PortPlanning
import StreamWire

/// Paces the UDP knocks of one probe, resends included, so that streamd's per-source rate limit
/// (`KnockRateLimiter`: 1000 a second, bursts of 2000) is never what decides a verdict.
///
/// A token bucket at half that limit, 500 knocks a second with bursts of 1000. Tokens are handed out
/// in order of asking (a caller that finds none reserves the next one and sleeps until it is due),
/// so a waiting resend is not starved by new checks. Over any stretch of time the knocks sent
/// number at most `burst + rate × seconds`, which stays under streamd's `2000 + 1000 × seconds`
/// however the stretch falls.
public final class KnockPacer: @unchecked Sendable {
    public static let defaultRate = 500.0
    public static let defaultBurst = 1000.0

    public let rate: Double
    public let burst: Double
    private let clock: @Sendable () -> Double
    private let sleeper: @Sendable (Double) -> Void
    private let lock = Lock()
    private var tokens: Double
    private var last: Double?
    private var handedOut = 0

    /// `clock` (seconds, any monotonic origin) and `sleep` are the real ones unless a test injects its own.
    public init(
        rate: Double = KnockPacer.defaultRate, burst: Double = KnockPacer.defaultBurst,
        clock: @escaping @Sendable () -> Double = monotonic,
        sleep: @escaping @Sendable (Double) -> Void = { usleep(UInt32(min($0, 60) * 1_000_000)) }
    ) {
        self.rate = max(0.001, rate)
        self.burst = max(1, burst)
        self.clock = clock
        self.sleeper = sleep
        tokens = max(1, burst)
    }

    /// Takes one token: 0 when one is there, else the seconds until the reserved one is due.
    /// The caller must wait that long before it sends (see `acquire`).
    public func reserve() -> Double {
        lock.withLock {
            let now = clock()
            if let last { tokens = min(burst, tokens + (now - last) * rate) }
            last = now
            tokens -= 1
            handedOut += 1
            return tokens >= 0 ? 0 : -tokens / rate
        }
    }

    /// Tokens handed out so far: one per knock sent.
    public var reserved: Int {
        lock.withLock { handedOut }
    }

    /// Sleeps `seconds` on this pacer's clock (the real one, or a test's).
    public func sleep(_ seconds: Double) {
        if seconds > 0 { sleeper(seconds) }
    }

    /// Takes one token, sleeping until it is due; returns the seconds waited.
    @discardableResult
    public func acquire() -> Double {
        let wait = reserve()
        sleep(wait)
        return wait
    }
}

/// Seconds on the monotonic clock.
public func monotonic() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
