/// A layer-4 protocol a port is opened for.
///
/// Only TCP and UDP are modelled: every streaming protocol portctl knows rides on one of them.
public enum Transport: String, Sendable, Hashable, Comparable, CaseIterable, Codable {
    case tcp
    case udp

    public static func < (lhs: Transport, rhs: Transport) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// Parses a transport name; case-insensitive, so `TCP` is accepted too.
    public init(parsing text: String) throws(ModelError) {
        guard let value = Transport(rawValue: text.lowercased()) else {
            throw ModelError.unknownTransport(text)
        }
        self = value
    }
}
