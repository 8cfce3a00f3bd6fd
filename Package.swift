// swift-tools-version:6.0
import PackageDescription

// One target per layer, under Sources/Shared/<Layer>; the dependencies point one way only
// (README, Development). The compiler refuses an arrow that runs the wrong way.
let package = Package(
    name: "portctl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "portctl", targets: ["portctl"]),
        .executable(name: "streamd", targets: ["streamd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.70.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
    ],
    targets: [
        // Ports, ranges, transports, openings, source scopes, diagnostics, JSON values. No dependencies.
        .target(name: "PortModel", path: "Sources/Shared/Model"),
        // The profile format: decoder and validator (file:line diagnostics), catalog, bundled profiles.
        // libyaml (apt: libyaml-dev), the parser PyYAML and Yams are built on. Yams itself is not used: it
        // links Foundation's NSRegularExpression and with it ICU's 34 MB of data (bench/README.md, size).
        .systemLibrary(name: "CLibYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .target(name: "PortProfiles", dependencies: ["PortModel", "CLibYAML"], path: "Sources/Shared/Profiles"),
        // Profiles + options -> Plan. Pure: no file system, no environment, no clock.
        .target(name: "PortPlanning", dependencies: ["PortModel"], path: "Sources/Shared/Planning"),
        // Plan -> nft text and JSON, firewalld, ufw, iptables, the table and the plan's JSON.
        .target(name: "PlanRendering", dependencies: ["PortModel", "PortPlanning"], path: "Sources/Shared/Rendering"),
        // Transactions, state, the live ruleset and its analysis; talks to the kernel through a protocol.
        .target(name: "FirewallState", dependencies: ["PortModel", "PortPlanning", "PlanRendering"], path: "Sources/Shared/Firewall"),
        // libnftables, loaded when a command first talks to the kernel (CNftables.h; apt: libnftables-dev).
        .target(name: "CNftables"),
        // The kernel's ruleset generation and the namespace's cookie, over raw netlink: plain C, so
        // that its system headers stay out of the Swift-imported CNftables module.
        .target(name: "CNftGeneration"),
        .target(name: "NftablesKernel", dependencies: ["PortModel", "FirewallState", "CNftables", "CNftGeneration"], path: "Sources/Shared/Kernel"),
        // Listening sockets and their processes, services and configurations that claim a port.
        .target(name: "HostInspection", dependencies: ["PortModel", "PortPlanning"], path: "Sources/Shared/Host"),
        // What streamd and the probe share: protocol heads and answers, framing, RTP, the knock's format.
        // No dependencies, so the fuzzer builds it alone (scripts/fuzz).
        .target(name: "StreamWire", path: "Sources/Shared/Wire"),
        // The knock's key and HMAC.
        .target(name: "KnockAuth", dependencies: ["StreamWire", .product(name: "Crypto", package: "swift-crypto")], path: "Sources/Shared/KnockAuth"),
        // The system's OpenSSL (apt: libssl-dev), for the probe's RTMPS and HTTPS checks: NIO and a BoringSSL
        // of its own would double portctl's size for two TLS handshakes (bench/README.md, size).
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // portctl's TLS probe loads libssl.so.3 when it first needs it (CTLSLoader.h).
        .target(name: "CTLSLoader"),
        // Per-protocol checks, the scheduler and the reports of `portctl probe`.
        .target(
            name: "PortProbe", dependencies: ["PortModel", "PortPlanning", "PlanRendering", "StreamWire", "KnockAuth", "CTLSLoader"],
            path: "Sources/Shared/Probe"),
        // What portctl and streamd share on the command line: plan flags, exit statuses, the console.
        .target(
            name: "CommandSupport",
            dependencies: [
                "PortModel", "PortProfiles", "PortPlanning", "HostInspection", "FirewallState",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Shared/CommandSupport"),
        .executableTarget(
            name: "portctl",
            dependencies: [
                "PortModel", "PortProfiles", "PortPlanning", "PlanRendering", "FirewallState", "NftablesKernel", "HostInspection",
                "PortProbe", "StreamWire", "KnockAuth", "CommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer harness over StreamWire; without -DFUZZING it replays a corpus (fuzz/README.md).
        .executableTarget(name: "StreamdFuzz", dependencies: ["StreamWire"], swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(
            name: "streamd",
            dependencies: [
                "PortModel", "PortProfiles", "PortPlanning", "FirewallState", "NftablesKernel", "HostInspection", "StreamWire", "KnockAuth",
                "CommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // The self-signed certificate is made with the system's OpenSSL, not swift-certificates,
                // whose X.509 and ASN.1 code would add 2 MB for one certificate (bench/README.md, size).
                "COpenSSL",
            ]
        ),
        // Helpers the test targets share: finding the binaries, running them, namespaces, test doubles.
        .target(name: "TestSupport", dependencies: ["FirewallState"], path: "Tests/TestSupport"),
        .testTarget(
            name: "SharedTests",
            dependencies: [
                "PortModel", "PortProfiles", "PortPlanning", "PlanRendering", "FirewallState", "HostInspection", "PortProbe", "StreamWire",
                "KnockAuth", "CommandSupport", "TestSupport",
            ],
            exclude: ["Golden"]),
        // The commands run in-process, on a context of the test's own (a few also run the binary).
        .testTarget(name: "PortctlTests", dependencies: ["portctl", "CommandSupport", "FirewallState", "TestSupport"], exclude: ["Corpus"]),
        .testTarget(name: "SystemTests", dependencies: ["PortModel", "FirewallState", "NftablesKernel", "TestSupport"], exclude: ["Scripts"]),
        .testTarget(
            name: "StreamdTests",
            dependencies: [
                "streamd", "StreamWire", "KnockAuth", "PortModel", "PortPlanning", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)

// Extension members are visible only where their module is imported: a file that imports
// FoundationEssentials cannot reach Foundation's ICU-linked String(format:) through another module.
for target in package.targets where target.type != .system && !["CNftGeneration", "CNftables", "CTLSLoader"].contains(target.name) {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
