// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "portctl",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "portctl", targets: ["portctl"]),
        .library(name: "Shared", targets: ["Shared"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // libnftables (apt: libnftables-dev). Only Firewall/LibNftablesBackend.swift imports it.
        .systemLibrary(name: "CNftables", pkgConfig: "libnftables", providers: [.apt(["libnftables-dev"])]),
        .target(
            name: "Shared",
            dependencies: [
                "CNftables",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "portctl",
            dependencies: [
                "Shared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Helpers the test targets share: finding the built binaries, running them, network namespaces.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SharedTests", dependencies: ["Shared", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "PortctlTests", dependencies: ["Shared", "TestSupport"], exclude: ["Corpus"]),
        .testTarget(name: "SystemTests", dependencies: ["Shared", "TestSupport"], exclude: ["Scripts"]),
    ],
    swiftLanguageModes: [.v6]
)
