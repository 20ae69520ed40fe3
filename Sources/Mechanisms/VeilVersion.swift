/// The version of Veil, printed by `veil --version` and `veil-bench --version`.
///
/// 0.x while the library interfaces may still change between releases; the minor number counts the
/// areas that have shipped (mechanisms, accounting, budget ledger, private SQL, training, trusted
/// execution, local inference, ...). Defined here, in the module every other one depends on, so
/// the two executables and library users read one constant.
public enum VeilVersion {
    public static let string = "0.9.0"
}
