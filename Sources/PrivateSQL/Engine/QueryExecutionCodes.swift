import Mechanisms

extension VeilError.Code {
    /// A query's statements ran past their time limit and were interrupted. The data had been read, so the
    /// query's charge stands (docs/design.md §2 rule 3).
    public static let queryTimeout = VeilError.Code("query_timeout", category: .failure)
    /// The database failed while a query read it (a damaged page, memory or disk exhausted). The data had been
    /// read, so the query's charge stands (docs/design.md §2 rule 3).
    public static let queryFailed = VeilError.Code("query_failed", category: .failure)
}
