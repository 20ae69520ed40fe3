import Mechanisms
import PostgresClient
import Testing

@Suite struct PostgresURLTests {
    @Test func parsesEveryPartAndKeepsThePasswordOutOfItsPrintedForms() throws {
        let url = try PostgresURL("postgres://analyst:s3cret@db.example.org:6432/health?sslmode=verify-full")
        #expect(url.host == "db.example.org")
        #expect(url.port == 6432)
        #expect(url.user == "analyst")
        #expect(url.password == "s3cret")
        #expect(url.database == "health")
        #expect(url.tls == .verifyFull)
        #expect(url.redacted == "postgres://analyst@db.example.org:6432/health")
        #expect(!"\(url)".contains("s3cret"))
    }

    @Test func takesThePasswordFromPGPASSWORDWhenTheURLHasNone() throws {
        let url = try PostgresURL("postgresql://analyst@127.0.0.1/health", environment: ["PGPASSWORD": "pw"])
        #expect(url.password == "pw")
        #expect(url.port == 5432)
    }

    @Test func loopbackIsReachedInTheClearAndOtherHostsNeedTLSUnlessTheURLSaysOtherwise() throws {
        #expect(try PostgresURL("postgres://u@localhost/d").tls == .disable)
        #expect(try PostgresURL("postgres://u@127.0.0.1:5433/d").tls == .disable)
        #expect(try PostgresURL("postgres://u@10.0.0.5/d").tls == .verifyFull)
        #expect(try PostgresURL("postgres://u@10.0.0.5/d?sslmode=disable").tls == .disable)
        #expect(try PostgresURL("postgres://u@localhost/d?sslmode=require").tls == .verifyFull)
    }

    @Test(arguments: [
        ("sqlite.db", "not a PostgreSQL URL"),
        ("postgres://u:pw@/d", "no host"),
        ("postgres://h:5432/d", "no user"),
        ("postgres://u:pw@h:5432", "no database"),
        ("postgres://u:pw@h/d?sslmode=prefer", "sslmode must be"),
        ("postgres://u:pw@h/d?pool=3", "unknown PostgreSQL URL parameter pool"),
        ("postgres://u:pw@h/d?sslmode=disable&sslrootcert=/ca.pem", "sslrootcert is given"),
    ])
    func refusesMalformedURLsWithoutRepeatingThePassword(input: String, expected: String) {
        do {
            _ = try PostgresURL(input, environment: [:])
            Issue.record("\(input) was accepted")
        } catch let error as VeilError {
            #expect(error.code == .invalidInput)
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(!error.message.contains("pw"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func quotesIdentifiersSoTheyNameExactlyWhatWasGiven() {
        #expect(PostgresIdentifier.quote("visits") == "\"visits\"")
        #expect(PostgresIdentifier.quote("a\"b; DROP TABLE x") == "\"a\"\"b; DROP TABLE x\"")
    }

    @Test func escapesCopyTextFieldsAndWritesNullAsBackslashN() {
        #expect(PostgresCopyText.row(["a\tb", nil, "c\\d\ne\r"]) == "a\\tb\t\\N\tc\\\\d\\ne\\r\n")
    }
}
