import ArgumentParser
import CommandSupport
import FirewallState
import FoundationEssentials
import HostInspection
import KnockAuth
import NftablesKernel
import PlanRendering
import PortModel
import PortPlanning
import PortProbe
import PortProfiles
import StreamWire

#if canImport(Glibc)
    import Glibc
#endif

/// Checking probe's values: durations, list items, paths and hosts.
extension ProbeCommand {
    /// `2s`, `500ms`, `1.5` (seconds), from 1 ms to 60 s.
    static func duration(_ text: String, flag: String = "--timeout") throws(CommandFailure) -> Double {
        // A hair under 1 ms for `0.001`, whose binary value is a little less than a thousandth.
        guard let value = seconds(text), value >= 0.001 * (1 - 1e-9), value <= 60 else {
            throw CommandFailure.flag(flag, "'\(shown(text))' is not a duration between 1ms and 60s (e.g. 2s, 500ms)")
        }
        return value
    }

    /// Seconds from `2s`, `500ms` or `1.5`: decimal digits only, so no sign, exponent, hex,
    /// `nan` or `inf`; nil for anything else.
    static func seconds(_ text: String) -> Double? {
        var number = Substring(text)
        var scale = 1.0
        if number.hasSuffix("ms") {
            number = number.dropLast(2)
            scale = 0.001
        } else if number.hasSuffix("s") {
            number = number.dropLast()
        }
        let parts = number.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let digits = parts.joined()
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }), let value = Double(number) else {
            return nil
        }
        return value * scale
    }

    /// The comma-separated items of a repeatable list flag; an empty item (`554/tcp,`) is refused.
    static func items(_ values: [String], flag: String, example: String) throws(CommandFailure) -> [String] {
        var items: [String] = []
        for value in values {
            let parts = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard !parts.contains(where: { $0.allSatisfy(\.isWhitespace) }) else {
                throw CommandFailure.flag(
                    flag,
                    "'\(shown(value))' has an empty item (a stray comma?); list \(flag == "--ports" ? "ports" : "transports") as \(example)"
                )
            }
            items += parts
        }
        return items
    }

    /// The path itself when it holds what cannot go into a request line: a control character
    /// (CR and LF would inject headers into DESCRIBE), a space, or a Unicode line separator.
    static func unfitForPath(_ path: String) -> String? {
        path.unicodeScalars.contains { $0.value <= 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}" }
            ? path : nil
    }

    /// The host must be a name or an address that resolves, and --source an address of this host
    /// in a family the host has: usage errors (64), found before anything is sent.
    static func checkHost(_ host: String, source: String?) throws(CommandFailure) {
        guard !host.isEmpty else {
            throw CommandFailure(.usage, "the host to probe is empty; name it, e.g. portctl probe stream.example.org dss")
        }
        guard !host.hasPrefix("-") else {
            throw CommandFailure(.usage, "host: '\(shown(host))' starts with '-': it is not a host name or an address")
        }
        var family: Prober.SourceCheck?
        if let source {
            family = Prober.check(source: source)
            if family == .notAnAddress {
                throw CommandFailure.flag("--source", "'\(shown(source))' is not an IP address (e.g. 192.0.2.2 or 2001:db8::2)")
            }
        }
        let resolved = Prober.families(of: host)
        guard resolved.ipv4 || resolved.ipv6 else { throw CommandFailure(.usage, "cannot resolve host '\(shown(host))'") }
        guard let source, let family else { return }
        switch family {
        case .ipv4 where !resolved.ipv4:
            throw CommandFailure.flag("--source", "'\(shown(source))' is IPv4, but host '\(shown(host))' has no IPv4 address")
        case .ipv6 where !resolved.ipv6:
            throw CommandFailure.flag("--source", "'\(shown(source))' is IPv6, but host '\(shown(host))' has no IPv6 address")
        case .ipv4(local: false), .ipv6(local: false):
            throw CommandFailure.flag("--source", "'\(shown(source))' is not an address of this host")
        default: return
        }
    }

    /// A value as an error line echoes it: control characters escaped (`\r`, `\u{7F}`), and cut
    /// after 80 characters.
    static func shown(_ value: String) -> String {
        var text = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\r": text += "\\r"
            case "\n": text += "\\n"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}":
                text += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text.count > 80 ? String(text.prefix(80)) + "..." : text
    }
}
