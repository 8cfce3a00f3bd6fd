// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "portctl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "portctl", targets: ["portctl"]),
        .executable(name: "streamd", targets: ["streamd"]),
        .library(name: "Shared", targets: ["Shared"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.70.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.0.0"),
    ],
    targets: [
        // libnftables (apt: libnftables-dev). Only Firewall/LibNftablesBackend.swift imports it.
        .systemLibrary(name: "CNftables", pkgConfig: "libnftables", providers: [.apt(["libnftables-dev"])]),
        .target(
            name: "Shared",
            dependencies: [
                "CNftables",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "portctl",
            dependencies: [
                "Shared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The protocol parsers and responders, with no dependencies, so the fuzz harness can build them alone.
        .target(name: "StreamdProtocols"),
        // libFuzzer harness over StreamdProtocols; without -DFUZZING it replays a corpus (fuzz/README.md).
        .executableTarget(name: "StreamdFuzz", dependencies: ["StreamdProtocols"], swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(
            name: "streamd",
            dependencies: [
                "Shared",
                "StreamdProtocols",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Helpers the test targets share: finding the built binaries, running them, network namespaces.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SharedTests", dependencies: ["Shared", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "PortctlTests", dependencies: ["Shared", "TestSupport"], exclude: ["Corpus"]),
        .testTarget(name: "SystemTests", dependencies: ["Shared", "TestSupport"], exclude: ["Scripts"]),
        .testTarget(
            name: "StreamdTests",
            dependencies: [
                "streamd", "StreamdProtocols", "Shared", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
