import BigInt
import Testing
@testable import Mechanisms

@Suite("Rational")
struct RationalTests {
    @Test("Doubles convert exactly")
    func fromDouble() {
        let tenth = Rational(exactly: 0.1)!
        #expect(tenth.numerator == BigInt(3602879701896397))
        #expect(tenth.denominator == BigUInt(1) << 55)
        #expect(Rational(exactly: -2.5)! == Rational(-5, 2))
        #expect(Rational(exactly: 0x1p-1074)!.denominator == BigUInt(1) << 1074)
        #expect(Rational(exactly: 1e300)!.isInteger)
        #expect(Rational(exactly: .nan) == nil)
        #expect(Rational(exactly: .infinity) == nil)
        for value in [0.1, -3.75, 1e-300, 12345.678, 0x1p60] {
            #expect(Rational(exactly: value)!.doubleValue == value)
        }
    }

    @Test("Arithmetic, order, floor and ceiling")
    func arithmetic() {
        let a = Rational(1, 3), b = Rational(-1, 6)
        #expect(a + b == Rational(1, 6))
        #expect(a - b == Rational(1, 2))
        #expect(a * b == Rational(-1, 18))
        #expect(a / b == Rational(-2))
        #expect(b < a)
        #expect(Rational(7, 2).floor == 3)
        #expect(Rational(-7, 2).floor == -4)
        #expect(Rational(-7, 2).ceiling == -3)
        #expect(Rational(6, -4) == Rational(-3, 2))
        #expect(Rational(0, 5).denominator == 1)
    }
}
