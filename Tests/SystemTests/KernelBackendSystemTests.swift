import FirewallState
import Foundation
import Glibc
import NftablesKernel
import PortModel
import TestSupport
import XCTest

/// The real backend's own netlink requests, against the kernel, in a network namespace that only
/// the test's thread enters: unshare(CLONE_NEWNET) moves the calling thread alone, and the
/// namespace ends with its last socket, when the thread's backend is gone.
final class KernelBackendSystemTests: XCTestCase {
    final class Outcome: @unchecked Sendable {
        var failure: String?
        var ran = false
    }

    /// Runs `body` on a thread of its own inside a fresh network namespace; never in the host's.
    func inPrivateNamespace(_ body: @escaping @Sendable () throws -> Void) throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["nft"]) { throw XCTSkip(reason) }
        final class Job: @unchecked Sendable {
            let body: @Sendable () throws -> Void
            let outcome = Outcome()
            init(_ body: @escaping @Sendable () throws -> Void) { self.body = body }
        }
        let job = Job(body)
        var thread = pthread_t()
        let box = Unmanaged.passRetained(job).toOpaque()
        let made = pthread_create(
            &thread, nil,
            { raw in
                let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
                let host = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")) ?? "?"
                // unshare(2) and CLONE_NEWNET (sched.h) are GNU: the Glibc module carries neither.
                typealias Unshare = @convention(c) (Int32) -> Int32
                guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "unshare") else {
                    job.outcome.failure = "no unshare(2) in the C library"
                    return nil
                }
                guard unsafeBitCast(symbol, to: Unshare.self)(0x4000_0000) == 0 else {
                    job.outcome.failure = "unshare(CLONE_NEWNET): \(String(cString: strerror(errno)))"
                    return nil
                }
                let mine = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self/ns/net")) ?? host
                guard mine != host else {
                    job.outcome.failure = "the thread is still in the host's network namespace (\(mine)); nothing was run"
                    return nil
                }
                do {
                    try job.body()
                    job.outcome.ran = true
                } catch {
                    job.outcome.failure = "\(error)"
                }
                return nil
            }, box)
        XCTAssertEqual(made, 0)
        guard made == 0 else {
            Unmanaged<Job>.fromOpaque(box).release()
            return
        }
        pthread_join(thread, nil)
        if let failure = job.outcome.failure { XCTFail(failure) }
        XCTAssertTrue(job.outcome.ran)
    }

    struct Mismatch: Error, CustomStringConvertible {
        let description: String
    }

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw Mismatch(description: message()) }
    }

    /// NFT_MSG_GETTABLE on the generation socket gives the handle `list tables` shows, 0 for a
    /// table that is not there, in every family, and the kernel's generation moves with commits.
    func testTableHandlesAreWhatListTablesShows() throws {
        try inPrivateNamespace {
            let backend = LibNftablesBackend()
            try Self.expect(try backend.kernelTableHandle(family: "inet", name: "portctl") == 0, "no table yet")
            let before = backend.generation()
            let batch = JSONValue.object([
                (
                    "nftables",
                    .array(
                        [("inet", "portctl"), ("ip", "filter"), ("ip6", "other"), ("bridge", "b"), ("netdev", "n"), ("arp", "a")].map {
                            .object([("add", .object([("table", .object([("family", .string($0.0)), ("name", .string($0.1))]))]))])
                        })
                )
            ])
            try backend.run(batch, check: false)
            try Self.expect(backend.generation() == before.map { $0 &+ 1 }, "one commit moves the generation by one")
            for (family, name) in [("inet", "portctl"), ("ip", "filter"), ("ip6", "other"), ("bridge", "b"), ("netdev", "n"), ("arp", "a")]
            {
                // The kernel's own answer, without the fallback on the listing that tableHandle has.
                let handle = try backend.kernelTableHandle(family: family, name: name)
                let listed = try backend.tableHandleFromListing(family: family, name: name)
                try Self.expect(
                    listed > 0 && handle == listed, "\(family) \(name): \(String(describing: handle)), list tables says \(listed)")
                try Self.expect(try backend.tableHandle(family: family, name: name) == listed, "\(family) \(name) through tableHandle")
            }
            try Self.expect(try backend.kernelTableHandle(family: "ip", name: "portctl") == 0, "same name, another family")
            try Self.expect(try backend.kernelTableHandle(family: "inet", name: "absent") == 0, "no such table")
            try Self.expect(try backend.kernelTableHandle(family: "nofamily", name: "portctl") == nil, "an unknown family is not asked")
            try Self.expect(try backend.tableHandle(family: "nofamily", name: "portctl") == 0, "and lists nothing")
        }
    }
}
