import PortModel
import XCTest

@testable import streamd

/// The range redirect's nftables batches, built with FirewallState's transaction helpers since
/// issue 12: byte for byte the JSON streamd wrote by hand before.
final class RangeRedirectTests: XCTestCase {
    func testTheBatchForABroadcastRangeIsUnchanged() throws {
        let range = try PortRange(try PortNumber(10000), try PortNumber(65535))
        let local =
            #"{"match":{"op":"==","left":{"fib":{"result":"type","flags":["daddr"]}},"right":"local"}},"#
            + #"{"match":{"op":"in","left":{"ct":{"key":"state"}},"right":"new"}},"#
            + #"{"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":{"range":[10001,65535]}}},"#
        let expected =
            #"{"nftables":[{"metainfo":{"json_schema_version":1}},"#
            + #"{"add":{"table":{"family":"inet","name":"streamd","flags":["owner"]}}},"#
            + #"{"add":{"chain":{"family":"inet","table":"streamd","name":"prerouting","type":"nat","hook":"prerouting","prio":-100,"policy":"accept"}}},"#
            + #"{"add":{"rule":{"family":"inet","table":"streamd","chain":"prerouting","expr":["# + local
            + #"{"redirect":{"port":10000}}],"comment":"streamd: answer 10000-65535/udp on port 10000"}}},"#
            + #"{"add":{"chain":{"family":"inet","table":"streamd","name":"output","type":"nat","hook":"output","prio":-100,"policy":"accept"}}},"#
            + #"{"add":{"rule":{"family":"inet","table":"streamd","chain":"output","expr":["# + local
            + #"{"match":{"op":"==","left":{"payload":{"base":"th","offset":64,"len":32}},"right":1346587441}},"#
            + #"{"redirect":{"port":10000}}],"comment":"streamd: answer knocks from this host on 10000-65535/udp on port 10000"}}}]}"#
        XCTAssertEqual(RangeRedirect.batch([(range, target: 10000)]).compact, expected)
    }

    func testARangeOfOnlyItsTargetPortNeedsNoRule() throws {
        let single = PortRange(single: try PortNumber(7000))
        let batch = RangeRedirect.batch([(single, target: 7000)]).compact
        XCTAssertFalse(batch.contains(#""rule""#), batch)
        XCTAssertEqual(batch.components(separatedBy: #""chain":{"#).count - 1, 2, "both chains, empty")
    }

    func testTheRemovalIsUnchanged() {
        XCTAssertEqual(
            RangeRedirect.removal.compact,
            #"{"nftables":[{"add":{"table":{"family":"inet","name":"streamd"}}},{"delete":{"table":{"family":"inet","name":"streamd"}}}]}"#)
    }
}
