import NIOConcurrencyHelpers
import NIOCore

/// RTSP-over-HTTP tunnels: the GET channel that replies go out on, by x-sessioncookie.
final class TunnelRegistry: Sendable {
    private let channels = NIOLockedValueBox<[String: Channel]>([:])
    static let maxTunnels = 10_000

    func register(_ cookie: String, _ channel: Channel) -> Bool {
        channels.withLockedValue { table in
            guard table.count < Self.maxTunnels else { return false }
            table[cookie] = channel
            return true
        }
    }

    func channel(for cookie: String) -> Channel? { channels.withLockedValue { $0[cookie] } }

    func remove(_ cookie: String) { channels.withLockedValue { _ = $0.removeValue(forKey: cookie) } }
}
