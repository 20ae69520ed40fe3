// `DPEvent`, `VeilError` and the accountants come from `Accounting` (and `Mechanisms` below it);
// ledger users get them with `import BudgetLedger`.
@_exported import Accounting
