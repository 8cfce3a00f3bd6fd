import Foundation

/// The hostile-input corpus: malformed and hostile profiles (Tests/PortctlTests/Corpus/profiles)
/// and bad flag values, each with its exit code and exact first error line. CorpusTests checks the
/// messages; HostileCorpusSystemTests feeds every case to `apply` against a real kernel and checks
/// that nothing crashes, hangs, is accepted, or changes the ruleset.
public enum HostileCorpus {
    public static let profileDirectory = TestPaths.repository.appendingPathComponent("Tests/PortctlTests/Corpus/profiles")

    /// file -> (exit code, the exact stderr, with the file's path written as FILE).
    public static let profileCases: [String: (Int32, String)] = [
        "port-zero.yaml": (65, "FILE:7:13: error: opening 'rtsp': port 0 is out of range (1-65535)"),
        "port-65536.yaml": (65, "FILE:7:13: error: opening 'rtsp': port 65536 is out of range (1-65535)"),
        "seed-typo-65635.yaml": (
            65,
            "FILE:7:13: error: opening 'broadcast': port 65635 is out of range (1-65535); the seed document's \"10000-65635\" is a typo for 65535"
        ),
        "port-negative.yaml": (65, "FILE:7:13: error: opening 'rtsp': port -1 is out of range (1-65535)"),
        "port-abc.yaml": (
            65, "FILE:7:13: error: opening 'rtsp': 'abc' is not a port number (expected 1-65535, or a range such as 6970-6999)"
        ),
        "port-float.yaml": (
            65, "FILE:7:13: error: opening 'rtsp': '554.5' is not a port number (expected 1-65535, or a range such as 6970-6999)"
        ),
        "range-reversed.yaml": (
            65, "FILE:7:13: error: opening 'media': port range '6999-6970' is reversed; write it low-high, as 6970-6999"
        ),
        "range-open-ended.yaml": (
            65, "FILE:7:13: error: opening 'media': '6970-' is not a port number (expected 1-65535, or a range such as 6970-6999)"
        ),
        "transport-unknown.yaml": (65, "FILE:7:13: error: opening 'rtsp': unknown transport 'sctp' (expected tcp or udp)"),
        "transport-missing.yaml": (65, "FILE:7:13: error: opening 'rtsp': '554' has no transport (write it as 554/tcp or 554/udp)"),
        "key-typo-prots.yaml": (
            65,
            "FILE:7:5: error: unknown key 'prots' in opening; did you mean 'ports'? (valid keys: id, purpose, ports, service, direction, from, when, conflicts)"
        ),
        "key-typo-top.yaml": (
            65,
            "FILE:4:1: error: unknown key 'opennings' in profile; did you mean 'openings'? (valid keys: name, title, description, source, options, sources, openings)"
        ),
        "duplicate-id.yaml": (
            65, "FILE:8:9: error: duplicate opening id 'rtsp' (first defined at line 5); ids must be unique within a profile"
        ),
        "duplicate-key.yaml": (65, "FILE:2:1: error: key 'title' appears twice in one mapping"),
        "ports-empty.yaml": (65, "FILE:7:12: error: opening 'rtsp' has no ports; list at least one, e.g. ports: [554/tcp, 6970-6999/udp]"),
        "ports-null.yaml": (65, "FILE:7:11: error: opening 'rtsp' has no ports; list at least one, e.g. ports: [554/tcp, 6970-6999/udp]"),
        "when-unknown.yaml": (
            65,
            "FILE:10:11: error: opening 'tunnel' is enabled when 'port8O', which is not an option of this profile; did you mean 'port80'? (options: port80; declare it under options:)"
        ),
        "when-no-options.yaml": (
            65,
            "FILE:8:11: error: opening 'tunnel' is enabled when 'port80', which is not an option of this profile (this profile declares no options; declare it under options:)"
        ),
        "from-undeclared.yaml": (
            65,
            "FILE:8:11: error: opening 'admin' is open to source set 'admin', which is not declared; did you mean 'admins'? (use world, loopback, admins, broadcasters, or declare it under sources:)"
        ),
        "from-custom-undeclared.yaml": (
            65,
            "FILE:8:11: error: opening 'push' is open to source set 'encoders', which is not declared (use world, loopback, admins, broadcasters, or declare it under sources:)"
        ),
        "service-unknown.yaml": (
            65,
            "FILE:8:14: error: opening 'rtsp': unknown service 'rtps'; did you mean 'rtsp'? (expected one of: rtsp, rtsp-http, http, https, rtmp, rtmpt, rtmps, icy, mms, pna, admin, rtp, broadcast, srt, webrtc, other)"
        ),
        "direction-unknown.yaml": (65, "FILE:8:16: error: opening 'rtsp': unknown direction 'inbound' (expected in, out or both)"),
        "conflicts-unknown.yaml": (
            65, "FILE:8:16: error: opening 'web': unknown conflict kind 'webserver'; did you mean 'web-server'? (expected: web-server)"
        ),
        "missing-ports.yaml": (65, "FILE:5:5: error: opening 'rtsp' is missing required key 'ports' (e.g. ports: [554/tcp])"),
        "missing-purpose.yaml": (
            65, "FILE:5:5: error: missing required key 'purpose' (why the port is needed, e.g. purpose: RTSP requests from clients)"
        ),
        "missing-id.yaml": (65, "FILE:5:5: error: missing required key 'id' (a short name, e.g. id: rtsp)"),
        "missing-name.yaml": (65, "FILE:1:1: error: missing required key 'name' (the profile's name, e.g. name: dss)"),
        "missing-source.yaml": (
            65, "FILE:1:1: error: missing required key 'source' (where the ports come from: a document, URL or source file)"
        ),
        "bad-id.yaml": (
            65,
            "FILE:5:9: error: opening id 'RTSP_Control' is not valid (lowercase letters, digits and '-', starting with a letter, at most 32 characters)"
        ),
        "bad-profile-name.yaml": (
            65,
            "FILE:1:7: error: profile name 'Bad Name' is not valid (lowercase letters, digits and '-', starting with a letter or digit, at most 32 characters)"
        ),
        "openings-empty.yaml": (65, "FILE:4:11: error: openings is empty; a profile must open at least one port"),
        "openings-not-list.yaml": (65, "FILE:5:3: error: openings must be a list (each item starts with '- id:'), not a mapping"),
        "opening-not-mapping.yaml": (65, "FILE:5:5: error: an opening must be a mapping with id, purpose and ports, not a single value"),
        "port-as-mapping.yaml": (65, "FILE:8:9: error: a port must be written like 554/tcp or 6970-6999/udp, not a mapping"),
        "option-bad-name.yaml": (
            65,
            "FILE:5:3: error: option name 'Port80' is not valid (lowercase letters, digits and '-', starting with a letter, at most 32 characters)"
        ),
        "builtin-source-redeclared.yaml": (65, "FILE:5:3: error: source set 'admins' is built in; remove it from sources:"),
        "purpose-list.yaml": (65, "FILE:6:14: error: 'purpose' must be text, not a list"),
        "not-yaml.yaml": (65, "FILE:2:8: error: not valid YAML: did not find expected ',' or ']'"),
        "tab-indent.yaml": (65, "FILE:5:1: error: not valid YAML: found character that cannot start any token"),
        "binary.yaml": (65, "FILE:1:4: error: not valid UTF-8 (byte 0xff at offset 3); profiles must be UTF-8 text"),
        "empty.yaml": (65, "FILE:1:1: error: the file is empty; a profile needs name, title, source and openings"),
        "top-list.yaml": (
            65, "FILE:1:1: error: a profile must be a YAML mapping with the keys name, title, source and openings, not a list"
        ),
        // Hostile input (issue 11): every one refused, quickly, with its line and column.
        "alias-bomb.yaml": (
            65,
            "FILE:9:48: error: aliases expand this file to more than 100000 nodes (an alias bomb?); write the values out instead of aliasing aliases"
        ),
        "alias-key.yaml": (65, "FILE:4:1: error: an alias (*t) cannot be a key; write the key out"),
        "invalid-utf8.yaml": (65, "FILE:2:11: error: not valid UTF-8 (byte 0xe9 at offset 20); profiles must be UTF-8 text"),
        "overlong-utf8.yaml": (65, "FILE:3:14: error: not valid UTF-8 (byte 0xc0 at offset 34); profiles must be UTF-8 text"),
        "c1-control.yaml": (65, "FILE:2:8: error: 'title' contains control characters"),
        "line-separator.yaml": (65, "FILE:6:14: error: 'purpose' contains control characters"),
        "bidi-override.yaml": (65, "FILE:2:8: error: 'title' contains control characters"),
        "escape-sequence.yaml": (65, "FILE:2:8: error: 'title' contains control characters"),
        "deep-nesting.yaml": (65, "FILE:2:71: error: not valid YAML: lists and mappings nested more than 64 deep; a profile needs 4"),
        "two-documents.yaml": (65, "FILE:8:1: error: not valid YAML: but found another document"),
        "python-tag.yaml": (65, "FILE:1:7: error: 'name' must be text, not a list"),
        "merge-key.yaml": (
            65,
            """
            FILE:9:5: error: unknown key '<<' in opening (valid keys: id, purpose, ports, service, direction, from, when, conflicts)
            FILE:9:5: error: missing required key 'purpose' (why the port is needed, e.g. purpose: RTSP requests from clients)
            FILE:9:5: error: opening 'rtsp2' is missing required key 'ports' (e.g. ports: [554/tcp])
            """
        ),
        "port-huge.yaml": (65, "FILE:7:13: error: opening 'rtsp': port 99999999999999999999999 is out of range (1-65535)"),
        "port-fullwidth.yaml": (
            65,
            "FILE:7:13: error: opening 'rtsp': '\u{FF15}\u{FF15}\u{FF14}' is not a port number (expected 1-65535, or a range such as 6970-6999)"
        ),
        "port-hex.yaml": (
            65, "FILE:7:13: error: opening 'rtsp': '0x22a' is not a port number (expected 1-65535, or a range such as 6970-6999)"
        ),
        "nft-injection-name.yaml": (
            65,
            "FILE:1:7: error: profile name 'x; flush ruleset' is not valid (lowercase letters, digits and '-', starting with a letter or digit, at most 32 characters)"
        ),
        "id-injection.yaml": (
            65,
            "FILE:5:9: error: opening id 'rtsp } ; add table ip evil {' is not valid (lowercase letters, digits and '-', starting with a letter, at most 32 characters)"
        ),
        "from-world-admin-key.yaml": (65, "FILE:5:3: error: source set 'world' is built in; remove it from sources:"),
    ]
}
