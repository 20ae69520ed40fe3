import Foundation
import Mechanisms
import Testing

/// Where a bearer token may go without TLS: a loopback address, never a name that only looks like one.
@Suite("Loopback hosts")
struct LoopbackHostTests {
    @Test("loopback addresses and names, and look-alikes that are not")
    func hosts() {
        for host in ["localhost", "::1", "[::1]", "127.0.0.1", "127.1.2.3", "127.255.255.255"] {
            #expect(LoopbackHost.contains(host), "\(host)")
        }
        for host in ["127.example.org", "127.0.0.1.example.org", "127.0.0.256", "128.0.0.1", "127.0.0", "0.0.0.0",
                     "localhost.example.org", ""] {
            #expect(!LoopbackHost.contains(host), "\(host)")
        }
    }

    @Test("a token goes over https anywhere, over http only to loopback")
    func tokens() throws {
        for (url, allowed) in [("https://veil.example.org", true), ("http://127.0.0.1:8470", true),
                               ("http://localhost:1/x", true), ("http://127.attacker.example", false),
                               ("http://veil.example.org", false), ("ftp://127.0.0.1", false)] {
            #expect(LoopbackHost.allowsToken(to: try #require(URL(string: url))) == allowed, "\(url)")
        }
    }
}
