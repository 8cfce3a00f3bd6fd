/// The few text and path operations portctl needs, on the standard library alone: Foundation's
/// versions (`trimmingCharacters(in:)`, NSString's path methods) live in the part of Foundation that
/// links ICU, 34 MB that a firewall tool does not need (bench/README.md, binary size).
extension StringProtocol {
    /// Without leading and trailing whitespace, newlines included (`Character.isWhitespace`).
    package func trimmingWhitespace() -> String { trimming { $0.isWhitespace } }

    /// Without leading and trailing spaces and tabs only (Foundation's `.whitespaces`).
    package func trimmingSpaces() -> String { trimming { $0 == " " || $0 == "\t" } }

    /// Without leading and trailing newlines only (Foundation's `.newlines`).
    package func trimmingNewlines() -> String { trimming { $0.isNewline } }

    /// Without the leading and trailing characters that `strip` picks.
    package func trimming(_ strip: (Character) -> Bool) -> String {
        var view = self[...]
        while let first = view.first, strip(first) { view = view.dropFirst() }
        while let last = view.last, strip(last) { view = view.dropLast() }
        return String(view)
    }
}

/// Path joining and splitting as NSString did it, for the absolute paths portctl builds.
package enum Path {
    /// `relative` under `base`: one "/" between them, whatever either had at the joint.
    package static func join(_ base: String, _ relative: some StringProtocol) -> String {
        let tail = relative.drop { $0 == "/" }
        guard !base.isEmpty else { return String(tail) }
        let head = base.hasSuffix("/") ? String(base.dropLast()) : base
        return tail.isEmpty ? (head.isEmpty ? "/" : head) : head + "/" + tail
    }

    /// The last component: `sshd` of `/usr/sbin/sshd` (a trailing "/" is ignored).
    package static func lastComponent(_ path: String) -> String {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        let last = trimmed[trimmed.index(after: slash)...]
        return last.isEmpty ? "/" : String(last)
    }

    /// The directory that holds `path`: `/var/lib` of `/var/lib/portctl`, `/` of `/x`, `.` of `x`.
    package static func parent(_ path: String) -> String {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// `path` with `.`, `..` and repeated slashes resolved lexically (no symlinks followed), as
    /// NSString's `standardizingPath` did for absolute paths.
    package static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}

/// Numbers with a fixed count of decimals, as `String(format: "%.Nf")` wrote them (which needs
/// Foundation's ICU-linked part): rounded half away from zero, with a leading zero.
package enum Decimals {
    package static func fixed(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return String(value) }
        var scale = 1.0
        for _ in 0..<max(0, places) { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e18 else { return String(value) }
        let units = Int(scaled)
        let whole = units / Int(scale)
        let sign = value < 0 && units != 0 ? "-" : ""
        guard places > 0 else { return sign + String(whole) }
        let fraction = String(units % Int(scale))
        return sign + String(whole) + "." + String(repeating: "0", count: places - fraction.count) + fraction
    }
}
