//! The random choices of a workload: CPython's `random.Random` (MT19937, seeded from a
//! string), so that a workload made here is byte for byte the one a Python harness makes with
//! the same seed strings, and the recorded figures can be reproduced exactly.

use sha2::{Digest, Sha512};

/// Words of state of MT19937.
const N: usize = 624;
/// The twist offset of MT19937.
const M: usize = 397;

/// A Mersenne Twister drawing the same numbers as `random.Random(seed)` in Python 3.
#[derive(Clone, Debug)]
pub struct Random {
    state: Box<[u32; N]>,
    index: usize,
}

impl Random {
    /// The generator `random.Random(seed)` makes for the string `seed`: the seed is the
    /// integer of its UTF-8 bytes followed by their SHA-512 digest, big-endian.
    pub fn new(seed: &str) -> Random {
        let mut bytes = seed.as_bytes().to_vec();
        bytes.extend_from_slice(&Sha512::digest(seed.as_bytes()));
        // The integer's 32-bit words, least significant first.
        let key: Vec<u32> = bytes
            .rchunks(4)
            .map(|chunk| {
                chunk
                    .iter()
                    .fold(0, |word, &byte| word << 8 | u32::from(byte))
            })
            .collect();
        Random::from_key(&key)
    }

    /// MT19937's `init_by_array`.
    fn from_key(key: &[u32]) -> Random {
        let mut random = Random::from_seed(19_650_218);
        let mt = &mut random.state;
        let (mut i, mut j) = (1, 0);
        for _ in 0..N.max(key.len()) {
            let previous = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ previous.wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            (i, j) = (i + 1, (j + 1) % key.len());
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        for _ in 0..N - 1 {
            let previous = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ previous.wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        random
    }

    /// MT19937's `init_genrand`.
    fn from_seed(seed: u32) -> Random {
        let mut state = Box::new([0u32; N]);
        state[0] = seed;
        for i in 1..N {
            let previous = state[i - 1] ^ (state[i - 1] >> 30);
            state[i] = previous.wrapping_mul(1_812_433_253).wrapping_add(i as u32);
        }
        Random { state, index: N }
    }

    /// The next 32 random bits.
    fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn twist(&mut self) {
        let mt = &mut self.state;
        for i in 0..N {
            let y = (mt[i] & 0x8000_0000) | (mt[(i + 1) % N] & 0x7fff_ffff);
            let odd = if y & 1 == 1 { 0x9908_b0df } else { 0 };
            mt[i] = mt[(i + M) % N] ^ (y >> 1) ^ odd;
        }
        self.index = 0;
    }

    /// A float in [0, 1) with 53 random bits, as `random()`.
    pub fn float(&mut self) -> f64 {
        let high = f64::from(self.next_u32() >> 5);
        let low = f64::from(self.next_u32() >> 6);
        (high * 67_108_864.0 + low) / 9_007_199_254_740_992.0
    }

    /// A number in `0..n` (`n` ≥ 1), as `_randbelow`: the fewest bits that hold `n`, drawn
    /// again until they are below it.
    pub fn below(&mut self, n: usize) -> usize {
        let n = u32::try_from(n).expect("fewer than 2^32 choices");
        let bits = u32::BITS - n.leading_zeros();
        loop {
            let r = self.next_u32() >> (32 - bits);
            if r < n {
                return r as usize;
            }
        }
    }

    /// A number in `low..=high`, as `randint(low, high)`.
    pub fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    /// `k` distinct items of `items` in the order drawn, as `sample(items, k)`: from a pool
    /// when `items` is small next to `k`, else by drawing indices until they are new.
    pub fn sample<T: Copy>(&mut self, items: &[T], k: usize) -> Vec<T> {
        assert!(
            k <= items.len(),
            "a sample of {k} from {} items",
            items.len()
        );
        let n = items.len();
        let mut small_set = 21;
        if k > 5 {
            // 4 ** ceil(log4(3k)): the table size of a Python set of k items.
            let mut table = 1;
            while table < 3 * k {
                table *= 4;
            }
            small_set += table;
        }
        if n <= small_set {
            let mut pool = items.to_vec();
            (0..k)
                .map(|i| {
                    let j = self.below(n - i);
                    let item = pool[j];
                    pool[j] = pool[n - i - 1];
                    item
                })
                .collect()
        } else {
            let mut taken = std::collections::HashSet::new();
            (0..k)
                .map(|_| {
                    loop {
                        let j = self.below(n);
                        if taken.insert(j) {
                            break items[j];
                        }
                    }
                })
                .collect()
        }
    }

    /// `k` items of `items` drawn with replacement, as `choices(items, k=k)`.
    pub fn choices<T: Copy>(&mut self, items: &[T], k: usize) -> Vec<T> {
        let n = items.len() as f64;
        (0..k).map(|_| items[(self.float() * n) as usize]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first outputs of MT19937's reference `init_by_array({0x123, 0x234, 0x345,
    /// 0x456})` (mt19937ar.out).
    #[test]
    fn matches_the_reference_twister() {
        let mut random = Random::from_key(&[0x123, 0x234, 0x345, 0x456]);
        let first: Vec<u32> = (0..5).map(|_| random.next_u32()).collect();
        assert_eq!(
            first,
            [
                1_067_595_299,
                955_945_823,
                477_289_528,
                4_107_218_783,
                4_228_976_476
            ]
        );
    }

    /// `random.Random("choochoo")`: `random()`, `randint(1, 3)` ×4 and `sample(range(10),
    /// 4)` as Python 3.11 draws them.
    #[test]
    fn matches_python_for_a_string_seed() {
        let mut random = Random::new("choochoo");
        assert_eq!(random.float(), 0.107_605_367_877_637_97);
        let ints: Vec<usize> = (0..4).map(|_| random.between(1, 3)).collect();
        assert_eq!(ints, [3, 3, 1, 3]);
        let items: Vec<usize> = (0..10).collect();
        assert_eq!(random.sample(&items, 4), [1, 9, 4, 6]);
    }

    /// `sample` by distinct indices (4 of 40), from a pool (8 of 40), then `choices`.
    #[test]
    fn matches_python_for_both_ways_of_sampling_and_for_choices() {
        let mut random = Random::new("choochoo");
        let items: Vec<usize> = (0..40).collect();
        assert_eq!(random.sample(&items, 4), [6, 11, 7, 5]);
        assert_eq!(random.sample(&items, 8), [17, 20, 10, 15, 18, 22, 32, 8]);
        assert_eq!(
            random.choices(b"abcdefghijklmnopqrstuvwxyz0123456789      \n", 8),
            *b"i3k3okca"
        );
    }
}
