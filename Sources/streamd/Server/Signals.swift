import Dispatch
import FoundationEssentials
import Glibc

/// Waits for SIGTERM or SIGINT; runs `onHangup` on SIGHUP (logs reopen).
enum SignalWaiter {
    static func wait(onHangup: @escaping @Sendable () -> Void) {
        let semaphore = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if number == SIGHUP { onHangup() } else { semaphore.signal() }
            }
            source.resume()
            sources.append(source)
        }
        semaphore.wait()
        for source in sources { source.cancel() }
    }
}
