import Synchronization

/// A lock around a class's own state: NSLock's `withLock`, on the standard library's Mutex
/// (NSLock is in the part of Foundation that links ICU).
package final class Lock: Sendable {
    private let mutex = Mutex(())

    package init() {}

    package func withLock<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        try mutex.withLock { (_: inout ()) throws(Failure) -> sending Result in try body() }
    }
}
