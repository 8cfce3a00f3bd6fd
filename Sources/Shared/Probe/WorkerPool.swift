import FoundationEssentials
import KnockAuth
import PlanRendering
import PortModel
import PortPlanning
import StreamWire

/// Runs jobs on a fixed number of threads of its own, each job within a deadline.
///
/// Threads of our own, not Dispatch: each check blocks in poll(), and Dispatch on Linux keeps its
/// pool near the core count for blocking work, which would serialise the timeouts. A fixed pool
/// pulling from a queue keeps threads and sockets in flight at `width`, whatever the number of jobs.
///
/// Every job has a deadline, `limit` seconds from its start. A job still running at its deadline
/// is given up on: `overdue` stands in for its result, its thread is retired (it ends when the job
/// returns, and `late` gets what it returned), and a new thread takes its place. So a check that hangs in a way nobody foresaw
/// still yields a result, and the caller always gets one result per job.
enum WorkerPool {
    fileprivate final class State: @unchecked Sendable {
        /// Guards everything below, and wakes the supervisor when a job ends.
        let condition = Condition()
        var next = 0
        /// Deadlines of the jobs running now, by index.
        var deadlines: [Int: Double] = [:]
        /// Jobs given up on: their late results are not taken.
        var overdue = Set<Int>()
        var finished = 0
    }

    /// Runs `count` jobs, at most `width` at once; returns their results in order.
    /// `started` is called on each new worker thread (tests count them), `done` after each job
    /// with the number done so far.
    static func run<Result: Sendable>(
        count: Int, width: Int, limit: Double,
        work: @escaping @Sendable (Int) -> Result,
        overdue: (Int) -> Result,
        late: @escaping @Sendable (Int, Result) -> Void = { _, _ in },
        done: @escaping @Sendable (Int) -> Void = { _ in }
    ) -> [Result] {
        guard count > 0 else { return [] }
        let state = State()
        let box = Results<Result>(count: count)
        let lock = state.condition

        @Sendable func worker() {
            while true {
                lock.lock()
                guard state.next < count else {
                    lock.unlock()
                    return
                }
                let index = state.next
                state.next += 1
                state.deadlines[index] = monotonic() + limit
                lock.unlock()
                let result = work(index)
                lock.lock()
                if state.overdue.contains(index) {
                    // Given up on, and already replaced: hand back what came late, and stop.
                    lock.unlock()
                    late(index, result)
                    return
                }
                state.deadlines[index] = nil
                box.set(index, result)
                state.finished += 1
                let finished = state.finished
                lock.signal()
                lock.unlock()
                done(finished)
            }
        }

        func spawn() {
            startThread(stackSize: 256 * 1024) { worker() }
        }

        for _ in 0..<max(1, min(width, count)) { spawn() }
        lock.lock()
        while state.finished < count {
            let now = monotonic()
            let late = state.deadlines.filter { $0.value <= now }.keys.sorted()
            for index in late {
                state.deadlines[index] = nil
                state.overdue.insert(index)
                box.set(index, overdue(index))
                state.finished += 1
                // Its thread is stuck in the job: another takes its place in the pool.
                if state.next < count { spawn() }
            }
            if !late.isEmpty {
                let finished = state.finished
                lock.unlock()
                done(finished)
                lock.lock()
                continue
            }
            let wake = state.deadlines.values.min().map { max(0.001, $0 - now) } ?? 1
            lock.wait(seconds: min(wake, 1))
        }
        lock.unlock()
        return box.all
    }

    /// Results gathered from the workers.
    final class Results<Result>: @unchecked Sendable {
        private var results: [Result?]

        init(count: Int) { results = Array(repeating: nil, count: count) }

        /// Called with the pool's lock held.
        func set(_ index: Int, _ result: Result) { results[index] = result }

        var all: [Result] { results.compactMap { $0 } }
    }
}
