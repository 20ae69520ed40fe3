import Testing
@testable import PrivateSQL

@Suite("SQL parser")
struct ParserTests {
    @Test("a full query parses into its clauses")
    func fullQuery() throws {
        let s = try Parser.parse("""
            select year, COUNT(*) AS n, avg(income) mean -- a comment
            FROM visits v /* block
            comment */ WHERE female = 1 AND (doctor_visits BETWEEN 1 AND 5 OR region LIKE 'N%')
              AND year NOT IN (1984, 1985) AND income IS NOT NULL
            GROUP BY year HAVING n > 10 ORDER BY mean DESC, 1 LIMIT 3 OFFSET 1;
            """)
        #expect(s.items.count == 3)
        #expect(s.items[1].alias == "n")
        #expect(s.items[2].alias == "mean")
        #expect(s.from.name == "visits")
        #expect(s.from.alias == "v")
        #expect(s.groupBy.count == 1)
        #expect(s.orderBy.count == 2 && s.orderBy[0].descending && !s.orderBy[1].descending)
        #expect(s.limit == 3 && s.offset == 1)
        guard case .function(let name, let args, let distinct, let star)? = s.items[1].expression?.kind else {
            Issue.record("COUNT(*) is not a function call")
            return
        }
        #expect(name == "COUNT" && args.isEmpty && !distinct && star)
        guard case .binary(.and, _, _)? = s.whereClause?.kind else {
            Issue.record("WHERE is not an AND")
            return
        }
    }

    @Test("quoted identifiers, escaped quotes, numbers")
    func literals() throws {
        let tokens = try Lexer(#"SELECT "odd ""name""", 'it''s', 42, 3.5, 1e3, .5 FROM t"#).tokens()
        #expect(tokens[1].kind == .quotedIdentifier("odd \"name\""))
        #expect(tokens[3].kind == .string("it's"))
        #expect(tokens[5].kind == .integer(42))
        #expect(tokens[7].kind == .real(3.5))
        #expect(tokens[9].kind == .real(1000))
        #expect(tokens[11].kind == .real(0.5))
    }

    @Test("operator precedence: AND binds tighter than OR, * tighter than +")
    func precedence() throws {
        let s = try Parser.parse("SELECT COUNT(*) FROM t WHERE a = 1 OR b = 2 AND c = 3")
        guard case .binary(.or, _, let right)? = s.whereClause?.kind, case .binary(.and, _, _) = right.kind else {
            Issue.record("wrong precedence")
            return
        }
        let t = try Parser.parse("SELECT SUM(a) + SUM(b) * 2 FROM t")
        guard case .binary(.add, _, let r)? = t.items[0].expression?.kind, case .binary(.multiply, _, _) = r.kind else {
            Issue.record("wrong arithmetic precedence")
            return
        }
    }

    @Test("syntax errors point at line and column with a caret", arguments: [
        ("SELECT COUNT(* FROM visits", 1, 16, "expected ')' after '*' in COUNT(*), found 'FROM'"),
        ("SELECT COUNT(*)\nFROM visits\nWHERE year = ", 3, 14, "the query ends where an expression was expected"),
        ("SELECT COUNT(*) FROM visits WHERE region = 'abc", 1, 44, "unterminated string literal"),
        ("SELECT COUNT(*) FROM", 1, 21, "expected a table name after FROM"),
        ("SELECT COUNT(*) FROM visits GROUP year", 1, 35, "expected BY after GROUP"),
        ("SELECT COUNT(*) FROM visits WHERE a = 1 LIMIT -1", 1, 47, "LIMIT needs a non-negative integer"),
        ("SELECT COUNT(*) FROM visits WHERE a = ?", 1, 39, "parameters ('?') are not supported"),
        ("SELECT 12abc FROM visits", 1, 8, "malformed number"),
    ])
    func syntaxErrors(query: String, line: Int, column: Int, message: String) {
        do {
            _ = try Parser.parse(query)
            Issue.record("expected an error for \(query)")
        } catch {
            #expect(error.code == .invalidQuery)
            #expect(error.location?.line == line)
            #expect(error.location?.column == column)
            #expect(error.reason.contains(message), "\(error.reason)")
            let lines = error.description.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 3)
            #expect(lines[2] == "  " + String(repeating: " ", count: column - 1) + "^")
        }
    }

    @Test("the rendered error shows the line and the caret")
    func rendering() {
        do {
            _ = try Parser.parse("SELECT COUNT(*)\n  FROM visits WHERE year = = 3")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == """
                line 2, column 28: expected an expression, found '='
                    FROM visits WHERE year = = 3
                                             ^
                """)
            #expect(error.veilError.code == .invalidQuery)
        }
    }

    @Test("statements other than one SELECT, and joins that pair every row with every row, are refused", arguments: [
        ("DELETE FROM visits", "only SELECT statements are answered"),
        ("DROP TABLE visits", "only SELECT statements are answered"),
        ("SELECT COUNT(*) FROM visits; DROP TABLE visits", "only one statement per query"),
        ("SELECT COUNT(*) FROM visits, people", "comma joins are refused"),
        ("SELECT COUNT(*) FROM visits CROSS JOIN people", "CROSS JOIN is refused"),
        ("SELECT COUNT(*) FROM visits WHERE year IN (SELECT year FROM t)", "subqueries are not supported yet"),
        ("SELECT COUNT(*) FROM visits UNION SELECT COUNT(*) FROM visits", "UNION is not supported"),
        ("WITH x AS (SELECT 1) SELECT COUNT(*) FROM x", "WITH (common table expressions) is not supported"),
        ("", "the query is empty"),
    ])
    func refusals(query: String, message: String) {
        do {
            _ = try Parser.parse(query)
            Issue.record("expected a refusal for \(query)")
        } catch {
            #expect(error.code == .queryRefused)
            #expect(error.reason.contains(message), "\(error.reason)")
        }
    }
}
