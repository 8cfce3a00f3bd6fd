import PlanRendering
import PortModel
import StreamWire

/// Reports of a probe of several hosts: one table with a HOST column, one JSON document with a
/// `hosts` array of single-host reports, JUnit with a testsuite per host, TAP over all of them.
extension ProbeReport {
    public typealias HostResults = (host: String, results: [ProbeResult])

    public static func passed(_ hosts: [HostResults]) -> Bool { hosts.allSatisfy { passed($0.results) } }

    public static func table(_ hosts: [HostResults]) -> String {
        var rows = [["HOST", "PORT", "VERDICT", "DETAIL", "OPENING"]]
        for (host, results) in hosts {
            for result in results {
                rows.append([
                    host, result.target.name, result.verdict.rawValue, result.detail, result.target.labels.joined(separator: ", "),
                ])
            }
        }
        var out = "Probe of \(hosts.count) hosts\n\n" + PlanTable.layout(rows) + "\n"
        for (host, results) in hosts {
            let failed = results.filter { $0.verdict != .ok }.count
            out += "\(host): \(results.count - failed) ok, \(failed) failed\n"
        }
        return out
    }

    public static func json(_ hosts: [HostResults]) -> JSONValue {
        .object([
            ("schema", .string("portctl.probe")), ("version", .int(1)), ("passed", .bool(passed(hosts))),
            ("hosts", .array(hosts.map { json($0.results, host: $0.host) })),
        ])
    }

    public static func junit(_ hosts: [HostResults]) -> String {
        let all = hosts.flatMap(\.results)
        let failures = all.filter { $0.verdict != .ok }.count
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out +=
            "<testsuites name=\"portctl probe\" tests=\"\(all.count)\" failures=\"\(failures)\" errors=\"0\" time=\"\(seconds3(all.reduce(0) { $0 + $1.seconds }))\">\n"
        for (host, results) in hosts {
            // A single host's document holds exactly one testsuite: take it whole.
            let one = junit(results, host: host).split(separator: "\n", omittingEmptySubsequences: false)
            out += one.dropFirst(2).dropLast(2).joined(separator: "\n") + "\n"
        }
        out += "</testsuites>\n"
        return out
    }

    public static func tap(_ hosts: [HostResults]) -> String {
        let all = hosts.flatMap { host in host.results.map { (host.host, $0) } }
        var out = "TAP version 13\n1..\(all.count)\n"
        for (index, (host, result)) in all.enumerated() {
            let name = "\(host) \(result.target.name) \(result.target.labels.joined(separator: ", "))"
            out +=
                "\(result.verdict == .ok ? "ok" : "not ok") \(index + 1) - \(name): \(result.verdict.rawValue) (\(result.detail.replacingAll("#", with: "")))\n"
        }
        return out
    }
}
