import PortModel

/// The left side of a match: which field of the packet it reads, or that the packet has no such
/// header (then nothing matches), or that portctl cannot know it.
extension BlockingAnalyzer.RuleMatcher {
    /// What the left side of a match reads from the packet.
    indirect enum Field {
        case l4proto
        case dport
        case nfproto
        case ethertype
        case ctState
        case interfaceName
        case interfaceIndex
        case saddr
        case concat([Field])
        /// The packet does not have this header (a `tcp` field on a UDP packet, `ip` on IPv6): no match.
        case absent
        /// Something portctl does not know about the packet.
        case opaque
    }

    /// The field a match's left side reads: meta keys, payload fields, conntrack state, concatenations.
    func field(_ left: JSONValue) -> Field {
        if let meta = left["meta"], let key = meta["key"]?.string {
            switch key {
            case "l4proto": return .l4proto
            case "nfproto": return .nfproto
            case "protocol": return .ethertype
            case "iifname": return .interfaceName
            case "iif": return .interfaceIndex
            default: return .opaque
            }
        }
        if let payload = left["payload"] {
            guard let proto = payload["protocol"]?.string, let name = payload["field"]?.string else { return .opaque }
            if headerAbsent(proto) == true { return .absent }
            switch (proto, name) {
            case ("ip", "protocol"), ("ip6", "nexthdr"): return .l4proto
            case ("ip", "saddr"), ("ip6", "saddr"): return .saddr
            case ("tcp", "dport"), ("udp", "dport"), ("th", "dport"): return .dport
            default: return .opaque
            }
        }
        if let ct = left["ct"], ct["key"]?.string == "state", ct["dir"] == nil { return .ctState }
        if let items = left["concat"]?.array {
            let fields = items.map(field)
            if fields.contains(where: { if case .absent = $0 { return true } else { return false } }) { return .absent }
            return .concat(fields)
        }
        return impliesAbsentHeader(left) ? .absent : .opaque
    }

    /// True when the packet has no such header, false when it has, nil when portctl cannot tell.
    func headerAbsent(_ proto: String) -> Bool? {
        switch proto {
        case "ip": return packet.family != .ipv4
        case "ip6": return packet.family != .ipv6
        case "tcp", "udp": return proto != packet.transport.rawValue
        case "th": return false
        case "icmp", "icmpv6", "igmp", "sctp", "dccp", "udplite", "esp", "ah", "comp", "gre", "ipcomp":
            return true
        default: return nil
        }
    }

    /// An expression such as `tcp flags & syn` reads a header: on a packet without it, nothing matches.
    func impliesAbsentHeader(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let pairs):
            for (key, inner) in pairs {
                if key == "payload", let proto = inner["protocol"]?.string, headerAbsent(proto) == true { return true }
                if key == "tcp option", packet.transport != .tcp { return true }
                if impliesAbsentHeader(inner) { return true }
            }
            return false
        case .array(let items): return items.contains(where: impliesAbsentHeader)
        default: return false
        }
    }
}
