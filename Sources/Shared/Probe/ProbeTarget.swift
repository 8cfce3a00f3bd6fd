import FoundationEssentials
import PortModel

/// One port to probe: its transport and number, what should answer there, and who asked for it.
public struct ProbeTarget: Sendable, Hashable {
    public let transport: Transport
    public let port: Int
    public let service: Service
    public let labels: [String]
    /// The range this port was sampled from, for reports (`6970-6999/udp`).
    public let range: String
    /// Set for `--media` checks: a real RTSP session over this transport, not a port check.
    public var media: MediaTransport? = nil

    package init(transport: Transport, port: Int, service: Service, labels: [String], range: String, media: MediaTransport? = nil) {
        self.transport = transport
        self.port = port
        self.service = service
        self.labels = labels
        self.range = range
        self.media = media
    }

    /// How reports name the check: `554/tcp`, or `554/tcp media/udp`.
    public var name: String { "\(port)/\(transport.rawValue)" + (media.map { " media/\($0.rawValue)" } ?? "") }
}
