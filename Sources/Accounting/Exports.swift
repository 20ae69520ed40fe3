// `DPEvent`, `VeilError` and the parameter checks live in `Mechanisms` (the lower module, so that
// every mechanism can report its own cost); accountant users get them with `import Accounting`.
@_exported import Mechanisms
