import PortModel

/// Renders a profile and its diagnostics as JSON for `portctl profiles show --json` and `check --json`.
public enum ProfileJSON {
    public static func render(_ profile: Profile, overrides: [String]) -> JSONValue {
        .object([
            ("name", .string(profile.name)),
            ("title", .string(profile.title)),
            ("file", .string(profile.origin)),
            ("overrides", .array(overrides.map { .string($0) })),
            ("source", .string(profile.source)),
            ("description", profile.description.map { .string($0) } ?? .null),
            ("options", .object(profile.options.keys.sorted().map { ($0, .string(profile.options[$0]!)) })),
            ("source_sets", .object(profile.sourceSets.keys.sorted().map { ($0, .string(profile.sourceSets[$0]!)) })),
            (
                "openings",
                .array(
                    profile.openings.map { opening in
                        .object([
                            ("id", .string(opening.id)), ("purpose", .string(opening.purpose)),
                            ("ports", .array(opening.ports.map { .string($0.description) })),
                            ("service", .string(opening.service.rawValue)), ("direction", .string(opening.direction.rawValue)),
                            ("from", .string(opening.from.name)), ("when", opening.when.map { .string($0) } ?? .null),
                            ("conflicts", opening.conflicts.map { .string($0) } ?? .null),
                        ])
                    })
            ),
        ])
    }
}

/// Renders a diagnostic as JSON.
public enum DiagnosticJSON {
    public static func render(_ diagnostic: Diagnostic) -> JSONValue {
        .object([
            ("file", .string(diagnostic.file)), ("line", .int(diagnostic.line)), ("column", .int(diagnostic.column)),
            ("severity", .string(diagnostic.severity.rawValue)), ("message", .string(diagnostic.message)),
        ])
    }
}
