import NIOCore

/// The head deadline (issue 11, item 12c): a request head and its body must be complete within
/// the timeout, counted from the connection for the first request and from its first byte for
/// the next ones. A timer, so that a client that falls silent halfway is closed on time, not only
/// when its next byte comes; the framer drives it.
struct HeadDeadline {
    let timeout: TimeAmount
    private var task: Scheduled<Void>?
    /// Until the first request is complete, the deadline runs from the connection, bytes or not.
    private var awaitingFirstRequest = true

    init(seconds: Double) {
        timeout = .nanoseconds(Int64(seconds * 1e9))
    }

    /// Starts the deadline of the request being read, unless one runs already.
    mutating func arm(_ context: ChannelHandlerContext) {
        guard task == nil else { return }
        let channel = context.channel
        task = context.eventLoop.scheduleTask(in: timeout) {
            channel.close(promise: nil)
        }
    }

    mutating func disarm() {
        task?.cancel()
        task = nil
    }

    /// A request is complete: the next one's deadline runs from its own first byte.
    mutating func requestCompleted() {
        disarm()
        awaitingFirstRequest = false
    }

    /// After reading heads: a request begun and not complete has a deadline; otherwise none runs
    /// (between requests, silence is the idle timeout's business), except before the first request.
    mutating func update(pending: Bool, _ context: ChannelHandlerContext) {
        if pending {
            arm(context)
        } else if !awaitingFirstRequest {
            disarm()
        }
    }
}
