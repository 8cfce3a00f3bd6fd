@testable import CommandSupport
@testable import FirewallState
@testable import HostInspection
@testable import KnockAuth
@testable import PlanRendering
@testable import PortModel
@testable import PortPlanning
@testable import PortProbe
@testable import PortProfiles
@testable import StreamWire

/// Profiles built from YAML in the tests, through the same decoder the CLI uses.
enum Fixtures {
    static func profile(_ yaml: String, file: String = "test.yaml") -> Profile {
        let result = ProfileDecoder.decode(yaml, file: file)
        guard let profile = result.profile else {
            fatalError("fixture does not decode: \(result.diagnostics)")
        }
        return profile
    }

    static func bundled(_ name: String) -> Profile {
        let text = BundledProfiles.files.first { $0.name == name }!.text
        return profile(text, file: "bundled:\(name).yaml")
    }

    static func cidr(_ text: String) -> CIDR { try! CIDR(parsing: text) }
}
