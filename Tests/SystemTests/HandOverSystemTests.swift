import FirewallState
import Foundation
import PortModel
import TestSupport
import XCTest

/// After a commit, portctl exits without waiting for the kernel's clean-up of the replaced ruleset
/// (an RCU grace period, which `nft -f` waits for at exit): a child holds its netfilter netlink
/// sockets, and nothing else, until portctl has exited, then exits itself (issue 13). strace
/// follows both processes.
final class HandOverSystemTests: SafeApplyFixture {
    struct Trace {
        let lines: [String]
        /// The first process's id: portctl's.
        var parent: String { lines.first.map { String($0.prefix { $0 != " " }) } ?? "" }
        func of(_ pid: String) -> [String] { lines.filter { $0.hasPrefix(pid + " ") } }
        /// Processes (not threads) portctl forked: glibc's fork is a clone with SIGCHLD.
        var children: [String] {
            of(parent).filter { ($0.contains("clone(") || $0.contains("clone3(")) && $0.contains("SIGCHLD") }
                .compactMap { $0.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespaces) } }
        }
    }

    func traced(_ arguments: [String]) throws -> (Trace, ProcessResult) {
        let (lines, result) = try straced(
            ["-q", "-e", "trace=clone,clone3,fork,vfork,close_range,sendmsg,exit_group", "-e", "signal=none"], arguments)
        return (Trace(lines: lines), result)
    }

    func testAfterACommitAChildHoldsTheSocketsUntilPortctlHasExited() throws {
        let (trace, result) = try traced(["apply", "dss", "-q"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(try ruleset().contains("table inet portctl"), "the rules are live when apply returns")
        let children = trace.children
        XCTAssertEqual(children.count, 1, "one child: \(trace.lines.joined(separator: "\n"))")
        let child = try XCTUnwrap(children.first)
        let forked = try XCTUnwrap(trace.lines.firstIndex { $0.hasPrefix(trace.parent + " ") && $0.contains("= \(child)") })
        let commit = try XCTUnwrap(trace.lines.firstIndex { $0.contains("sendmsg(") && $0.contains("NFNL_MSG_BATCH_BEGIN") }, "a commit")
        XCTAssertLessThan(commit, forked, "the child comes after the commit")
        // It closes everything but the sockets (standard output and error first: a reader of
        // portctl's output sees its end at portctl's exit), and outlives portctl.
        let closes = trace.of(child).filter { $0.contains("close_range(") }
        XCTAssertTrue(closes.first?.contains("close_range(0, ") ?? false, "closes from descriptor 0: \(closes)")
        XCTAssertTrue(closes.contains { $0.contains("4294967295") }, "and everything above the sockets: \(closes)")
        let parentExit = try XCTUnwrap(trace.lines.firstIndex { $0.hasPrefix(trace.parent + " ") && $0.contains("+++ exited with 0 +++") })
        let childExit = try XCTUnwrap(trace.lines.firstIndex { $0.hasPrefix(child + " ") && $0.contains("+++ exited with 0 +++") })
        XCTAssertLessThan(parentExit, childExit, "the child exits after portctl")
    }

    /// Nothing committed (a no-op, a dry run, reading the state): no child.
    func testWithoutACommitThereIsNoChild() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        for arguments in [["apply", "dss", "-q"], ["apply", "dss", "--port80", "--dry-run", "-q"], ["status"], ["history"]] {
            let (trace, result) = try traced(arguments)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)")
            XCTAssertEqual(trace.children, [], "\(arguments): \(trace.lines.joined(separator: "\n"))")
        }
    }
}
