import Dispatch
import FoundationEssentials
import Glibc
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The send errors of one listener (all the sockets of a range): counted on the admin page, and
/// logged at level warning at most once per `interval`, with how many were not logged since.
final class SendErrorLog: Sendable {
    static let interval: UInt64 = 10_000_000_000

    let listener: String
    let counters: Counters
    let logger: Logger
    private let state = NIOLockedValueBox<(lastLogged: UInt64?, unlogged: Int)>((nil, 0))

    init(listener: String, counters: Counters, logger: Logger) {
        self.listener = listener
        self.counters = counters
        self.logger = logger
    }

    func record(errno code: CInt, to address: SocketAddress) {
        let reason = String(cString: strerror(code))
        let target = address.ipAddress.map { "\($0) port \(address.port ?? 0)" } ?? "\(address)"
        counters.update(listener) { listener in
            listener.sendErrors += 1
            listener.lastSendError = "\(reason) (to \(target))"
        }
        let now = DispatchTime.now().uptimeNanoseconds
        let unlogged = state.withLockedValue { state -> Int? in
            if let last = state.lastLogged, now - last < Self.interval {
                state.unlogged += 1
                return nil
            }
            defer { state = (now, 0) }
            return state.unlogged
        }
        guard let unlogged else { return }
        logger.warning(
            "cannot send a UDP datagram: dropped it; the socket stays open",
            metadata: ["listener": "\(listener)", "to": "\(target)", "reason": "\(reason)", "unlogged": "\(unlogged)"])
    }
}
