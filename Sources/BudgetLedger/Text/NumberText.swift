/// Numbers in messages: the shortest decimal that reads back as the same `Double`.
///
/// Swift's `description` of a `Double` is that shortest round-trip form (Steele & White 1990,
/// "How to print floating-point numbers accurately"; the same digits as Python's `repr`): `0.1`,
/// `1e-06`, `1e+308`, `5e-324`. Messages use it rather than `%f` or `Decimal`, whose expansion of
/// a large or tiny value runs to hundreds of digits.
public enum NumberText {
    /// `value` in its shortest round-trip decimal form; `-0` as `0.0`.
    public static func short(_ value: Double) -> String {
        value == 0 ? "0.0" : value.description
    }
}
