import Foundation

/// Loopback hosts: where Veil's servers may listen, and its clients may send a bearer token, without TLS.
public enum LoopbackHost {
    /// Whether `host` is `localhost`, `::1` (bracketed or not) or a dotted-quad address in 127.0.0.0/8. A name that
    /// merely starts with `127.` (`127.example.org`) is not.
    public static func contains(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Whether a bearer token may be sent to `url`: over https, or over http to a loopback host.
    public static func allowsToken(to url: URL) -> Bool {
        guard let scheme = url.scheme?.lowercased(), let host = url.host else { return false }
        return scheme == "https" || (scheme == "http" && contains(host))
    }
}
