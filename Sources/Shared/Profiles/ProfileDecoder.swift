import PortModel

/// Reads a profile from YAML text and checks every field.
///
/// It never stops at the first problem: each one becomes a `Diagnostic` with file:line:column,
/// the bad value and what would be valid. A `Profile` is returned only when there is no error.
public struct ProfileDecoder {
    static let topKeys = ["name", "title", "description", "source", "options", "sources", "openings"]
    package static let openingKeys = ["id", "purpose", "ports", "service", "direction", "from", "when", "conflicts"]

    let file: String
    let expectedName: String?
    var diagnostics: [Diagnostic] = []

    var openingMarks: [String: Mark] = [:]
    /// Keys a misspelt key most likely meant: already reported, so not reported again as missing.
    var misspelt: Set<String> = []
    var portMarks: [String: [(PortSpec, Mark?)]] = [:]

    public struct Result: Sendable {
        public let profile: Profile?
        public let diagnostics: [Diagnostic]
    }

    /// Decodes `text`; `file` names it in diagnostics and becomes the profile's origin.
    /// With `expectedName`, the profile's `name:` must match it (the file name in a profile directory).
    public static func decode(_ text: String, file: String, expectedName: String? = nil) -> Result {
        var decoder = ProfileDecoder(file: file, expectedName: expectedName)
        let profile = decoder.run(text)
        let errors = decoder.diagnostics.hasErrors
        return Result(profile: errors ? nil : profile, diagnostics: decoder.diagnostics)
    }

    /// The largest profile file portctl reads: ample for any server, and a bound on the work.
    public static let maxFileSize = 1 << 20

    /// Decodes a file's bytes: they must be UTF-8 (the first bad byte is reported with its line and
    /// column, rather than silently turned into U+FFFD) and at most `maxFileSize` long.
    public static func decode(data: [UInt8], file: String, expectedName: String? = nil) -> Result {
        var decoder = ProfileDecoder(file: file, expectedName: expectedName)
        if data.count > maxFileSize {
            decoder.diagnostics.append(
                Diagnostic(
                    file: file, line: 1, column: 1, severity: .error,
                    message: "the file is \(data.count) bytes; a profile may be at most \(maxFileSize) bytes (1 MiB)"))
            return Result(profile: nil, diagnostics: decoder.diagnostics)
        }
        if let (offset, line, column) = firstInvalidUTF8(data) {
            decoder.diagnostics.append(
                Diagnostic(
                    file: file, line: line, column: column, severity: .error,
                    message:
                        "not valid UTF-8 (byte 0x\(data[offset] < 16 ? "0" : "")\(String(data[offset], radix: 16)) at offset \(offset)); profiles must be UTF-8 text"
                ))
            return Result(profile: nil, diagnostics: decoder.diagnostics)
        }
        return decode(String(decoding: data, as: UTF8.self), file: file, expectedName: expectedName)
    }

    /// The offset, line and column (in characters) of the first byte that is not valid UTF-8.
    static func firstInvalidUTF8(_ data: [UInt8]) -> (Int, Int, Int)? {
        var iterator = data.makeIterator()
        var decoder = UTF8()
        var offset = 0
        var line = 1
        var column = 1
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                offset += UTF8.width(scalar)
                if scalar == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .emptyInput:
                return nil
            case .error:
                return (min(offset, data.count - 1), line, column)
            }
        }
    }

    mutating func run(_ text: String) -> Profile? {
        if let refusal = AliasGuard.check(text) {
            diagnostics.append(
                Diagnostic(file: file, line: refusal.line, column: refusal.column, severity: .error, message: refusal.message))
            return nil
        }
        let root: Node?
        do {
            root = try YAMLComposer.compose(text)
        } catch {
            report(at: error.mark, error.message)
            return nil
        }
        guard let root else {
            report(at: nil, "the file is empty; a profile needs name, title, source and openings")
            return nil
        }
        guard case .mapping(let top) = root else {
            report(
                at: root.mark, "a profile must be a YAML mapping with the keys name, title, source and openings, not a \(kind(of: root))")
            return nil
        }
        let fields = checkKeys(top, allowed: Self.topKeys, context: "profile")

        let name = requiredString(fields, "name", in: top, hint: "the profile's name, e.g. name: dss")
        if let (value, mark) = name, !Names.isProfileName(value) {
            report(at: mark, "profile name '\(Shown.value(value))' is not valid (\(Names.profileRule))")
        } else if let (value, mark) = name, let expectedName, value != expectedName {
            report(at: mark, "profile name '\(Shown.value(value))' does not match its file name '\(expectedName).yaml'; rename one of them")
        }
        let title = requiredString(fields, "title", in: top, hint: "a one-line title, e.g. title: Darwin Streaming Server")
        let source = requiredString(fields, "source", in: top, hint: "where the ports come from: a document, URL or source file")
        let description = optionalString(fields, "description")

        let options = namedDescriptions(fields["options"], what: "option")
        let sourceSets = namedDescriptions(fields["sources"], what: "source set")
        for (setName, mark) in sourceSets.marks where ["world", "loopback"] + SourceRef.builtinSets ~= setName {
            report(at: mark, "source set '\(Shown.value(setName))' is built in; remove it from sources:")
        }

        var openings: [Opening] = []
        let topMisspelt = misspelt
        if let node = fields["openings"] {
            openings = decodeOpenings(node, options: options.values, sourceSets: sourceSets.values)
        } else if !topMisspelt.contains("openings") {
            report(at: top.mark, "missing required key 'openings' (a list of openings, each with id, purpose and ports)")
        }
        warnAboutOverlaps(openings)

        guard let name, let title, let source else { return nil }
        return Profile(
            name: name.0, title: title.0, description: description, source: source.0,
            options: options.values, sourceSets: sourceSets.values, openings: openings, origin: file)
    }
}

private func ~= (array: [String], value: String) -> Bool { array.contains(value) }
