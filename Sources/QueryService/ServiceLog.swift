import Foundation

/// The request log's formatting: a UTC timestamp and paths with control and non-ASCII characters replaced.
enum ServiceLog {
    /// The current UTC time to the second, `2026-12-01T22:48:33Z`.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var text = [CChar](repeating: 0, count: 32)
        let length = strftime(&text, text.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: text.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The first 200 characters of `path`, each byte outside printable ASCII shown as `?`.
    static func printable(_ path: String) -> String {
        String(path.unicodeScalars.prefix(200).map { $0.value < 0x21 || $0.value > 0x7E ? "?" : Character($0) })
    }
}
