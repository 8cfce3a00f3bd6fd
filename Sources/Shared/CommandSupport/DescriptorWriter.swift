import Glibc

/// Writes all of a text to a file descriptor, as FileHandle did (FileHandle is in the part of
/// Foundation that links ICU): partial writes are continued, interrupted ones retried; a descriptor
/// that is gone (a closed pipe) drops the rest.
package enum DescriptorWriter {
    package static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let wrote = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if wrote > 0 {
                    offset += wrote
                } else if wrote < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
