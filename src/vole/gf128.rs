//! The field GF(2^128) = GF(2)[x] / (x^128 + x^7 + x^2 + x + 1) (`protocol-spec/08-vole-psi.md`
//! section 8.1), in constant time and without `unsafe`.
//!
//! An element is a `u128` whose bit `i` is the coefficient of `x^i`, sent as its 16
//! little-endian bytes (so this is *not* GCM's reflected bit order). Addition is XOR.
//! Multiplication is a carry-less product followed by reduction; the carry-less product uses
//! ordinary integer multiplications on operands whose bits are spread four apart, the
//! constant-time method of Thomas Pornin's BearSSL (`ghash_ctmul.c`, "constant-time
//! carryless multiplication"), on 32-bit pieces so that no carry ever reaches a bit that is
//! kept, combined by Karatsuba's method (Karatsuba and Ofman, 1962).

use std::ops::{Add, AddAssign, Mul};

use subtle::{Choice, ConditionallySelectable};

/// An element of GF(2^128).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, zeroize::Zeroize)]
pub(crate) struct Gf128(pub(crate) u128);

impl std::fmt::Debug for Gf128 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gf128({:032x})", self.0)
    }
}

impl Gf128 {
    /// The additive identity.
    pub(crate) const ZERO: Gf128 = Gf128(0);
    /// The multiplicative identity.
    #[cfg(test)]
    pub(crate) const ONE: Gf128 = Gf128(1);

    /// From its 16 wire bytes (little-endian).
    pub(crate) fn from_le_bytes(bytes: [u8; 16]) -> Self {
        Gf128(u128::from_le_bytes(bytes))
    }

    /// Its 16 wire bytes (little-endian).
    pub(crate) fn to_le_bytes(self) -> [u8; 16] {
        self.0.to_le_bytes()
    }

    /// `self^(2^128 − 2)`, the inverse of a nonzero element (zero for zero): 127 squarings
    /// and 126 multiplications, the same sequence for every input.
    pub(crate) fn invert(self) -> Self {
        // 2^128 − 2 = 0b111...110: square-and-multiply over its bits from the top.
        let mut acc = self;
        for _ in 0..126 {
            acc = acc * acc * self;
        }
        acc * acc
    }

    /// `self · x`: a shift and a constant-time reduction.
    pub(crate) fn mul_x(self) -> Self {
        let top = self.0 >> 127;
        // x^128 = x^7 + x^2 + x + 1 = 0x87.
        Gf128((self.0 << 1) ^ (top.wrapping_neg() & 0x87))
    }
}

impl Gf128 {
    /// `self · c` for a public constant `c < 2^32` (the code's [`super::ex_conv::MIX`]): the
    /// shifted copies of `self` for the set bits of `c`, then the reduction. Constant time in
    /// `self`; the loop depends only on `c`.
    #[cfg(test)]
    pub(crate) fn mul_small(self, c: u32) -> Self {
        let (mut hi, mut lo) = (0u128, self.0);
        if c & 1 == 0 {
            lo = 0;
        }
        for j in 1..32 {
            if (c >> j) & 1 == 1 {
                lo ^= self.0 << j;
                hi ^= self.0 >> (128 - j);
            }
        }
        Gf128(reduce(hi, lo))
    }

    /// `self^2`: squaring is linear over GF(2), so it spreads the bits of `self` (bit `i` to
    /// bit `2i`) and reduces; constant time, and much cheaper than a multiplication.
    pub(crate) fn square(self) -> Self {
        fn spread(x: u64) -> u128 {
            let mut v = u128::from(x);
            v = (v | (v << 32)) & 0x0000_0000_ffff_ffff_0000_0000_ffff_ffff;
            v = (v | (v << 16)) & 0x0000_ffff_0000_ffff_0000_ffff_0000_ffff;
            v = (v | (v << 8)) & 0x00ff_00ff_00ff_00ff_00ff_00ff_00ff_00ff;
            v = (v | (v << 4)) & 0x0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f_0f0f;
            v = (v | (v << 2)) & 0x3333_3333_3333_3333_3333_3333_3333_3333;
            (v | (v << 1)) & 0x5555_5555_5555_5555_5555_5555_5555_5555
        }
        Gf128(reduce(spread((self.0 >> 64) as u64), spread(self.0 as u64)))
    }

    /// `self · MIX` ([`super::ex_conv::MIX`]): [`Gf128::mul_small`] with the set bits of the
    /// constant listed at compile time, so the shifts are constants and the loop unrolls.
    #[inline]
    pub(crate) fn mul_mix(self) -> Self {
        const C: u32 = super::ex_conv::MIX.0 as u32;
        const COUNT: usize = C.count_ones() as usize;
        const SHIFTS: [u32; COUNT] = {
            let mut out = [0u32; COUNT];
            let (mut j, mut k) = (0, 0);
            while j < 32 {
                if (C >> j) & 1 == 1 {
                    out[k] = j;
                    k += 1;
                }
                j += 1;
            }
            out
        };
        let (mut hi, mut lo) = (0u128, 0u128);
        for &j in &SHIFTS {
            if j == 0 {
                lo ^= self.0;
            } else {
                lo ^= self.0 << j;
                hi ^= self.0 >> (128 - j);
            }
        }
        Gf128(reduce(hi, lo))
    }
}

/// Multiplication by a fixed element `a` with a table of 4-bit windows (Shoup's method,
/// "On Fast and Provably Secure Message Authentication Based on Universal Hashing", CRYPTO
/// 1996): `table[i][v] = a · v·x^(4i)` for the 32 nibbles `i` and the 16 values `v`, and
/// `a · y = Σ_i table[i][nibble i of y]` (8 KiB; 32 loads and additions per product).
///
/// Its memory accesses depend on `y`, never on `a`: use it only where `y` may be seen, such as
/// a value the peer sent (the mask `A'` of spec 8.7) or an OKVS row's dense value, whose
/// columns the OKVS reads from memory anyway (spec 8.6). `a` may be secret (`Δ`, a table).
#[derive(Clone)]
pub(crate) struct MulTable {
    table: Box<[[u128; 16]; 32]>,
}

impl MulTable {
    /// The table of `a`.
    pub(crate) fn new(a: Gf128) -> Self {
        let mut table = Box::new([[0u128; 16]; 32]);
        let mut power = a; // a · x^(4i + b)
        for window in table.iter_mut() {
            for b in 0..4 {
                let bit = 1usize << b;
                for v in 0..bit {
                    window[bit | v] = window[v] ^ power.0;
                }
                power = power.mul_x();
            }
        }
        MulTable { table }
    }

    /// `a · y`.
    #[inline]
    pub(crate) fn mul(&self, y: Gf128) -> Gf128 {
        let mut acc = 0u128;
        for (i, window) in self.table.iter().enumerate() {
            acc ^= window[((y.0 >> (4 * i)) & 15) as usize];
        }
        Gf128(acc)
    }
}

impl Drop for MulTable {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.table.iter_mut().for_each(|w| w.zeroize());
    }
}

impl ConditionallySelectable for Gf128 {
    /// `a` or `b` without branching on `choice`, one 64-bit half at a time.
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        let lo = u64::conditional_select(&(a.0 as u64), &(b.0 as u64), choice);
        let hi = u64::conditional_select(&((a.0 >> 64) as u64), &((b.0 >> 64) as u64), choice);
        Gf128((u128::from(hi) << 64) | u128::from(lo))
    }
}

impl Add for Gf128 {
    type Output = Gf128;
    #[allow(
        clippy::suspicious_arithmetic_impl,
        reason = "addition in GF(2^128) is XOR"
    )]
    fn add(self, rhs: Gf128) -> Gf128 {
        Gf128(self.0 ^ rhs.0)
    }
}

impl AddAssign for Gf128 {
    #[allow(
        clippy::suspicious_op_assign_impl,
        reason = "addition in GF(2^128) is XOR"
    )]
    fn add_assign(&mut self, rhs: Gf128) {
        self.0 ^= rhs.0;
    }
}

impl Mul for Gf128 {
    type Output = Gf128;
    fn mul(self, rhs: Gf128) -> Gf128 {
        let (hi, lo) = clmul128(self.0, rhs.0);
        Gf128(reduce(hi, lo))
    }
}

/// The carry-less product of two 32-bit polynomials, in constant time: each operand is split
/// into four classes of bits (positions 0, 1, 2, 3 mod 4); a product of two classes has at most
/// 8 terms at any position, so its integer sum there fits in the 4 bits before the next bit of
/// the same class, and masking keeps exactly the parity.
fn clmul32(x: u32, y: u32) -> u64 {
    const M: [u32; 4] = [0x1111_1111, 0x2222_2222, 0x4444_4444, 0x8888_8888];
    const W: [u64; 4] = [
        0x1111_1111_1111_1111,
        0x2222_2222_2222_2222,
        0x4444_4444_4444_4444,
        0x8888_8888_8888_8888,
    ];
    let xs = M.map(|m| u64::from(x & m));
    let ys = M.map(|m| u64::from(y & m));
    let mut z = 0u64;
    for (c, w) in W.iter().enumerate() {
        let mut acc = 0u64;
        for a in 0..4 {
            // The class of y that lands in class c: (c - a) mod 4.
            acc ^= xs[a].wrapping_mul(ys[(c + 4 - a) % 4]);
        }
        z |= acc & w;
    }
    z
}

/// The carry-less product of two 64-bit polynomials (Karatsuba over [`clmul32`]).
fn clmul64(x: u64, y: u64) -> u128 {
    let (x0, x1) = (x as u32, (x >> 32) as u32);
    let (y0, y1) = (y as u32, (y >> 32) as u32);
    let lo = clmul32(x0, y0);
    let hi = clmul32(x1, y1);
    let mid = clmul32(x0 ^ x1, y0 ^ y1) ^ lo ^ hi;
    u128::from(lo) ^ (u128::from(mid) << 32) ^ (u128::from(hi) << 64)
}

/// The carry-less product of two 128-bit polynomials, as (high, low) halves (Karatsuba over
/// [`clmul64`]).
fn clmul128(x: u128, y: u128) -> (u128, u128) {
    let (x0, x1) = (x as u64, (x >> 64) as u64);
    let (y0, y1) = (y as u64, (y >> 64) as u64);
    let lo = clmul64(x0, y0);
    let hi = clmul64(x1, y1);
    let mid = clmul64(x0 ^ x1, y0 ^ y1) ^ lo ^ hi;
    (hi ^ (mid >> 64), lo ^ (mid << 64))
}

/// `hi · x^128 + lo` reduced modulo `x^128 + x^7 + x^2 + x + 1`.
fn reduce(hi: u128, lo: u128) -> u128 {
    // hi · x^128 = hi · (x^7 + x^2 + x + 1); the shifts' overflow (bits 128 and up, at most
    // 7 of them) is folded once more, and then fits.
    let folded = hi ^ (hi << 1) ^ (hi << 2) ^ (hi << 7);
    let over = (hi >> 127) ^ (hi >> 126) ^ (hi >> 121);
    lo ^ folded ^ over ^ (over << 1) ^ (over << 2) ^ (over << 7)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Schoolbook shift-and-add multiplication with reduction at every step: the reference.
    fn reference(a: u128, b: u128) -> u128 {
        let mut acc = 0u128;
        let mut a = a;
        for i in 0..128 {
            if (b >> i) & 1 == 1 {
                acc ^= a;
            }
            let top = a >> 127;
            a <<= 1;
            if top == 1 {
                a ^= 0x87;
            }
        }
        acc
    }

    #[test]
    fn x_to_the_128_is_the_reduction_polynomial() {
        let x127 = Gf128(1 << 127);
        assert_eq!(x127 * Gf128(2), Gf128(0x87));
        assert_eq!(x127.mul_x(), Gf128(0x87));
        assert_eq!(
            Gf128(1 << 127) * Gf128(1 << 127),
            Gf128(reference(1 << 127, 1 << 127))
        );
    }

    #[test]
    fn the_worst_case_for_carries_is_exact() {
        // All ones maximises the number of terms at every position.
        for (a, b) in [
            (u128::MAX, u128::MAX),
            (u128::MAX, 1),
            (u128::from(u64::MAX), u128::MAX),
            (0x8888_8888_8888_8888_8888_8888_8888_8888, u128::MAX),
        ] {
            assert_eq!((Gf128(a) * Gf128(b)).0, reference(a, b), "{a:x} * {b:x}");
        }
        assert_eq!(u128::from(clmul32(u32::MAX, u32::MAX)), {
            let mut r = 0u128;
            for i in 0..32 {
                r ^= u128::from(u32::MAX) << i;
            }
            r
        });
    }

    #[test]
    fn every_nonzero_element_has_order_dividing_2_to_the_128_minus_1() {
        // a^(2^128) = a in GF(2^128): 128 squarings give a back.
        for a in [1u128, 2, 0x87, 0xdead_beef, u128::MAX, 1 << 100] {
            let mut y = Gf128(a);
            for _ in 0..128 {
                y = y * y;
            }
            assert_eq!(y, Gf128(a));
        }
    }

    #[test]
    fn inverses_multiply_to_one() {
        for a in [
            1u128,
            2,
            3,
            0x87,
            u128::MAX,
            1 << 127,
            0x0123_4567_89ab_cdef,
        ] {
            assert_eq!(Gf128(a) * Gf128(a).invert(), Gf128::ONE, "{a:x}");
        }
        assert_eq!(Gf128::ZERO.invert(), Gf128::ZERO);
    }

    proptest! {
        #[test]
        fn multiplication_matches_the_reference(a: u128, b: u128) {
            prop_assert_eq!((Gf128(a) * Gf128(b)).0, reference(a, b));
        }

        #[test]
        fn squaring_matches_the_reference(a: u128) {
            prop_assert_eq!(Gf128(a).square().0, reference(a, a));
        }

        #[test]
        fn table_multiplication_matches_the_reference(a: u128, b: u128) {
            prop_assert_eq!(MulTable::new(Gf128(a)).mul(Gf128(b)).0, reference(a, b));
        }

        #[test]
        fn multiplication_by_a_small_constant_matches_the_reference(a: u128, c: u32) {
            prop_assert_eq!(Gf128(a).mul_small(c).0, reference(a, u128::from(c)));
            prop_assert_eq!(Gf128(a).mul_mix().0, reference(a, 4_234_123_421));
        }

        #[test]
        fn multiplication_distributes_and_commutes(a: u128, b: u128, c: u128) {
            let (a, b, c) = (Gf128(a), Gf128(b), Gf128(c));
            prop_assert_eq!(a * (b + c), a * b + a * c);
            prop_assert_eq!(a * b, b * a);
            prop_assert_eq!(a * Gf128::ONE, a);
            prop_assert_eq!(a.mul_x(), a * Gf128(2));
        }
    }
}
