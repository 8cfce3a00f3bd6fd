import KnockAuth
import PlanRendering
import PortModel
import PortPlanning
import StreamWire

/// The probe's reports: a table, JSON (schema `portctl.probe` version 1), JUnit XML and TAP.
public enum ProbeReport {
    public static func passed(_ results: [ProbeResult]) -> Bool { results.allSatisfy { $0.verdict == .ok } }

    public static func table(_ results: [ProbeResult], host: String) -> String {
        var rows = [["PORT", "VERDICT", "DETAIL", "OPENING"]]
        for result in results {
            rows.append([result.target.name, result.verdict.rawValue, result.detail, result.target.labels.joined(separator: ", ")])
        }
        let failed = results.filter { $0.verdict != .ok }.count
        return "Probe of \(host)\n\n" + PlanTable.layout(rows) + "\n\(results.count - failed) ok, \(failed) failed\n"
    }

    public static func json(_ results: [ProbeResult], host: String) -> JSONValue {
        .object([
            ("schema", .string("portctl.probe")), ("version", .int(1)), ("host", .string(host)),
            ("passed", .bool(passed(results))),
            (
                "results",
                .array(
                    results.map { result in
                        var fields: [(String, JSONValue)] = [
                            ("port", .int(result.target.port)), ("transport", .string(result.target.transport.rawValue)),
                            ("check", .string(result.target.media.map { "media/\($0.rawValue)" } ?? "port")),
                            ("service", .string(result.target.service.rawValue)), ("range", .string(result.target.range)),
                            ("openings", .array(result.target.labels.map { .string($0) })),
                            ("verdict", .string(result.verdict.rawValue)), ("detail", .string(result.detail)),
                            ("seconds", .string(seconds3(result.seconds))),
                        ]
                        if let media = result.media {
                            var stats: [(String, JSONValue)] = [
                                ("clients", .int(media.clients)), ("failed_clients", .int(media.failedClients)),
                                ("packets", .int(media.packets)), ("expected", .int(media.expected)), ("lost", .int(media.lost)),
                                ("loss_percent", .string(MediaVerdict.twoDecimals(media.lossPercent))),
                                ("jitter_ms", .string(MediaVerdict.twoDecimals(media.jitter))),
                                ("jitter_p99_ms", .string(MediaVerdict.twoDecimals(media.jitterP99))),
                                ("server_ports", .array(media.serverPorts.map { .string($0) })),
                            ]
                            if let received = media.punchesReceived { stats.append(("punches_received", .int(received))) }
                            if let received = media.serverReceived { stats.append(("server_received", .int(received))) }
                            fields.append(("media", .object(stats)))
                        }
                        return .object(fields)
                    })
            ),
        ])
    }

    /// JUnit XML: one testsuite for the host, one testcase per probed port; a failing verdict is a <failure>.
    public static func junit(_ results: [ProbeResult], host: String) -> String {
        let failures = results.filter { $0.verdict != .ok }.count
        let total = results.reduce(0) { $0 + $1.seconds }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out +=
            "<testsuites name=\"portctl probe\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"0\" time=\"\(seconds3(total))\">\n"
        out +=
            "  <testsuite name=\"\(xml(host))\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\" time=\"\(seconds3(total))\">\n"
        for result in results {
            let name = "\(result.target.name) \(result.target.labels.joined(separator: ", "))"
            out +=
                "    <testcase classname=\"\(xml(host)).\(result.target.service.rawValue)\" name=\"\(xml(name))\" time=\"\(seconds3(result.seconds))\""
            if result.verdict == .ok {
                out += "/>\n"
            } else {
                out +=
                    ">\n      <failure message=\"\(xml(result.verdict.rawValue + ": " + result.detail))\" type=\"\(result.verdict.rawValue)\"/>\n    </testcase>\n"
            }
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    public static func tap(_ results: [ProbeResult], host: String) -> String {
        var out = "TAP version 13\n1..\(results.count)\n"
        for (index, result) in results.enumerated() {
            let name = "\(host) \(result.target.name) \(result.target.labels.joined(separator: ", "))"
            out +=
                "\(result.verdict == .ok ? "ok" : "not ok") \(index + 1) - \(name): \(result.verdict.rawValue) (\(result.detail.replacingAll("#", with: "")))\n"
        }
        return out
    }

    static func xml(_ text: String) -> String { XMLText.escape(text) }
}

/// Seconds with three decimals, without Foundation's formatter.
func seconds3(_ value: Double) -> String { fixedPoint(value, places: 3) }

/// A non-negative number with a fixed count of decimals, without Foundation's formatter.
func fixedPoint(_ value: Double, places: Int) -> String {
    var scale = 1
    for _ in 0..<places { scale *= 10 }
    let units = Int((value * Double(scale)).rounded())
    let fraction = String(units % scale)
    return "\(units / scale)." + String(repeating: "0", count: places - fraction.count) + fraction
}
