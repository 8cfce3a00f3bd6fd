import Foundation
import TestSupport
import XCTest

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

/// What the safe-apply unit tests share: a state directory and an applier on the recording fake.
class SafeApplyUnitFixture: XCTestCase {
    var directory: String!
    var backend: RecordingBackend!
    var store: StateStore!
    var applier: Applier!
    let standalone = Placement.standalone(table: "portctl")

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-safe-\(UUID().uuidString)").path
        backend = RecordingBackend()
        store = StateStore(directory: directory)
        try? store.prepare()
        applier = Applier(backend: backend, store: store)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func dss(_ options: Set<String> = []) -> Plan {
        Planner.plan(PlanRequest(profiles: [Fixtures.bundled("dss")], options: options))
    }
}
