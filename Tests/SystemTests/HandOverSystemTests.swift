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
        /// portctl's process id: the one that ran execve (the first line).
        var parent: String { lines.first { $0.contains("execve(") }.map { String($0.prefix { $0 != " " }) } ?? "" }
        func of(_ pid: String) -> [String] { lines.filter { $0.hasPrefix(pid + " ") } }
        /// Where portctl forked: glibc's fork is a clone with SIGCHLD (threads are clones without
        /// it). strace may split the line into "<unfinished ...>" and "resumed": the first half
        /// still names the call and its flags.
        var forks: [Int] {
            lines.indices.filter { index in
                let line = lines[index]
                return line.hasPrefix(parent + " ") && (line.contains("clone(") || line.contains("clone3(")) && line.contains("SIGCHLD")
            }
        }
        /// The child: the process, not portctl, that called close_range (no thread of portctl does).
        var child: String? {
            lines.first { $0.contains("close_range(") && !$0.hasPrefix(parent + " ") }.map { String($0.prefix { $0 != " " }) }
        }
    }

    func traced(_ arguments: [String]) throws -> (Trace, ProcessResult) {
        let (lines, result) = try straced(
            ["-q", "-e", "trace=execve,clone,clone3,fork,vfork,close_range,sendmsg,exit_group", "-e", "signal=none"], arguments)
        return (Trace(lines: lines), result)
    }

    func testAfterACommitAChildHoldsTheSocketsUntilPortctlHasExited() throws {
        let (trace, result) = try traced(["apply", "dss", "-q"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(try ruleset().contains("table inet portctl"), "the rules are live when apply returns")
        XCTAssertFalse(trace.parent.isEmpty, trace.lines.joined(separator: "\n"))
        XCTAssertEqual(trace.forks.count, 1, "one child: \(trace.lines.joined(separator: "\n"))")
        let child = try XCTUnwrap(trace.child, trace.lines.joined(separator: "\n"))
        let forked = try XCTUnwrap(trace.forks.first)
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
            XCTAssertFalse(trace.parent.isEmpty, "\(arguments): \(trace.lines.joined(separator: "\n"))")
            XCTAssertEqual(trace.forks, [], "\(arguments): \(trace.lines.joined(separator: "\n"))")
            XCTAssertNil(trace.child, "\(arguments)")
        }
    }
}
