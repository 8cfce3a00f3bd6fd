import Foundation

@testable import PortModel
@testable import PortProfiles

/// The configuration files written for the readers' tests, under Tests/Fixtures/configs.
enum ConfigFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/configs")

    static func path(_ relative: String) -> String { directory.appendingPathComponent(relative).path }
}

extension ServerConfig {
    /// The listener of that id, for assertions.
    func listener(_ id: String) -> ConfigListener? { listeners.first { $0.id == id } }
    func closedItem(_ id: String) -> ConfigClosed? { closed.first { $0.id == id } }
}

extension ConfigListener {
    /// `8555/tcp` or `8000/udp, 8001/udp`.
    var portsText: String { ports.map(\.description).joined(separator: ", ") }
}
