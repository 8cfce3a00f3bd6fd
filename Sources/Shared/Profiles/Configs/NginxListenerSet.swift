import PortModel

/// The listeners and closed services a reader of an nginx-style configuration collects: unique
/// ids, and one listener for each (ports, bind) however often the configuration repeats it.
struct NginxListenerSet {
    private(set) var listeners: [ConfigListener] = []
    private var ids: Set<String> = []
    /// Where each (ports, bind) is in `listeners`, and the next number of each id stem: both keep
    /// a configuration of thousands of listens linear.
    private var positions: [Key: Int] = [:]
    private var numbers: [String: Int] = [:]

    private struct Key: Hashable {
        let ports: [PortSpec]
        let bind: BindAddress
    }
    private var closing: [(base: String, ports: [PortSpec], reason: String, citation: Citation)] = []

    /// The closed services, their ids given after every listener's: a listener keeps the plain id
    /// (`flv-push`) even when a closed one of its kind comes first in the file.
    var closed: [ConfigClosed] {
        var taken = ids
        var numbers = numbers
        return closing.map { item in
            let id = Self.uniqueID(
                base: item.base, bare: true, ports: item.ports, line: item.citation.line, taken: &taken, numbers: &numbers)
            return ConfigClosed(id: id, ports: item.ports, reason: item.reason, citation: item.citation)
        }
    }

    /// Adds a listener unless one with the same ports and bind is there already (`listen 80` and
    /// `listen [::]:80` both bind every address): the first keeps its id and citation, taking
    /// `service` when it is `.https` and the first's is `.http` (nginx makes the socket TLS when
    /// any server's listen for it says `ssl`). The id is `base` when `bare` and `base` is still free,
    /// else `base-PORT` (`rtmp-1936`), else `base-PORT-2`, ...
    mutating func add(
        base: String, bare: Bool, purpose: String, ports: [PortSpec], service: Service, direction: Direction = .in,
        from: SourceRef = .world, bind: BindAddress, citation: Citation
    ) {
        if let index = positions[Key(ports: ports, bind: bind)] {
            let old = listeners[index]
            if old.service == .http, service == .https {
                listeners[index] = ConfigListener(
                    id: old.id, purpose: old.purpose, ports: old.ports, service: service, direction: old.direction, from: old.from,
                    bind: old.bind, citation: old.citation, conflicts: old.conflicts)
            }
            return
        }
        let id = Self.uniqueID(base: base, bare: bare, ports: ports, taken: &ids, numbers: &numbers)
        positions[Key(ports: ports, bind: bind)] = listeners.count
        listeners.append(
            ConfigListener(
                id: id, purpose: purpose, ports: ports, service: service, direction: direction, from: from, bind: bind, citation: citation,
                conflicts: ConfigListener.webServerConflict(ports)))
    }

    /// Records a service the configuration leaves off; its id is `base` if no listener has it,
    /// else `base-PORT`, else `base-line-LINE`.
    mutating func close(base: String, ports: [PortSpec], reason: String, citation: Citation) {
        closing.append((base, ports, reason, citation))
    }

    private static func uniqueID(
        base: String, bare: Bool, ports: [PortSpec], line: Int = 0, taken: inout Set<String>, numbers: inout [String: Int]
    ) -> String {
        let portText = ports.first.map { "\($0.range.low.value)" + ($0.range.isSingle ? "" : "-\($0.range.high.value)") }
        var candidates: [String] = []
        if bare { candidates.append(base) }
        if let portText { candidates.append("\(base)-\(portText)") }
        if line > 0 { candidates.append("\(base)-line-\(line)") }
        let stem = candidates.last ?? base
        for candidate in candidates where !taken.contains(candidate) {
            taken.insert(candidate)
            return candidate
        }
        // Numbered from where this stem's numbering stopped: of taken.count + 1 numbers at least one is free.
        let start = numbers[stem] ?? 2
        for number in start...(start + taken.count) where !taken.contains("\(stem)-\(number)") {
            taken.insert("\(stem)-\(number)")
            numbers[stem] = number + 1
            return "\(stem)-\(number)"
        }
        return stem
    }
}
