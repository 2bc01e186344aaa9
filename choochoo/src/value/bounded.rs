//! Decoding whose allocations are bounded by its input. Bytes read back from the store may be
//! damaged or hostile, and postcard takes a collection's length from a prefix in the input:
//! trusted as is, ten bytes could claim a map of 2^60 entries. serde caps such a claim at
//! 1 MiB of preallocation per collection (`size_hint::cautious`), which is still a million
//! times a ten-byte input, and postcard passes a map's claim on unchecked.
//!
//! So every length prefix goes through one budget shared by the whole decode: a collection
//! may preallocate at most as many elements as the input has bytes left in the budget, which
//! starts at the input's length. Past the budget a collection still decodes, growing as its
//! elements actually arrive, and every element but a zero-sized one takes at least one byte,
//! so what is allocated stays proportional to the input (times the in-memory size of the
//! largest element type). Nesting is limited to [`MAX_DEPTH`] levels, so a recursive type
//! cannot overflow the stack on a deeply nested input.

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};
use std::cell::Cell;
use std::fmt;

/// How deeply values may nest: deep enough for any real value, shallow enough for the
/// stack of a worker thread.
pub(crate) const MAX_DEPTH: usize = 128;

/// Decodes a `T` from all of `bytes`; trailing bytes are an error.
pub(crate) fn from_bytes<T: de::DeserializeOwned>(bytes: &[u8]) -> Result<T, postcard::Error> {
    let budget = Budget {
        elements: Cell::new(bytes.len()),
        depth: Cell::new(0),
    };
    let mut postcard = postcard::Deserializer::from_bytes(bytes);
    let value = T::deserialize(Bounded {
        inner: &mut postcard,
        budget: &budget,
    })?;
    if postcard.finalize()?.is_empty() {
        Ok(value)
    } else {
        Err(postcard::Error::DeserializeBadEncoding)
    }
}

/// What one decode may still spend.
struct Budget {
    /// How many more collection elements may be preallocated.
    elements: Cell<usize>,
    /// How deeply the value being decoded is nested.
    depth: Cell<usize>,
}

impl Budget {
    /// The part of a collection's claimed length that may be preallocated.
    fn grant(&self, claimed: Option<usize>) -> Option<usize> {
        let granted = claimed?.min(self.elements.get());
        self.elements.set(self.elements.get() - granted);
        Some(granted)
    }

    /// Decodes one nested value, one level deeper.
    fn nested<R, E: de::Error>(&self, decode: impl FnOnce() -> Result<R, E>) -> Result<R, E> {
        let depth = self.depth.get() + 1;
        if depth > MAX_DEPTH {
            return Err(E::custom(format_args!(
                "a value nested deeper than {MAX_DEPTH} levels"
            )));
        }
        self.depth.set(depth);
        let result = decode();
        self.depth.set(depth - 1);
        result
    }
}

/// A deserializer whose collections draw on the budget.
struct Bounded<'b, D> {
    inner: D,
    budget: &'b Budget,
}

/// The visitor, seed or access `inner`, handing out bounded deserializers.
struct Wrap<'b, T> {
    inner: T,
    budget: &'b Budget,
}

impl<'b, T> Wrap<'b, T> {
    fn new(inner: T, budget: &'b Budget) -> Wrap<'b, T> {
        Wrap { inner, budget }
    }
}

macro_rules! forward {
    ($($method:ident $(($($arg:ident: $ty:ty),*))?;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($($arg: $ty,)*)? visitor: V) -> Result<V::Value, D::Error> {
                self.inner.$method($($($arg,)*)? Wrap::new(visitor, self.budget))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Bounded<'_, D> {
    type Error = D::Error;

    forward! {
        deserialize_any; deserialize_bool; deserialize_i8; deserialize_i16; deserialize_i32;
        deserialize_i64; deserialize_i128; deserialize_u8; deserialize_u16; deserialize_u32;
        deserialize_u64; deserialize_u128; deserialize_f32; deserialize_f64; deserialize_char;
        deserialize_str; deserialize_string; deserialize_bytes; deserialize_byte_buf;
        deserialize_option; deserialize_unit; deserialize_seq; deserialize_map;
        deserialize_identifier; deserialize_ignored_any;
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Wrap<'_, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T::Value, D::Error> {
        let budget = self.budget;
        budget.nested(|| {
            self.inner.deserialize(Bounded {
                inner: deserializer,
                budget,
            })
        })
    }
}

macro_rules! visit {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
                self.inner.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    visit! {
        visit_bool(bool); visit_i8(i8); visit_i16(i16); visit_i32(i32); visit_i64(i64);
        visit_i128(i128); visit_u8(u8); visit_u16(u16); visit_u32(u32); visit_u64(u64);
        visit_u128(u128); visit_f32(f32); visit_f64(f64); visit_char(char); visit_str(&str);
        visit_borrowed_str(&'de str); visit_string(String); visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]); visit_byte_buf(Vec<u8>);
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        let budget = self.budget;
        budget.nested(|| {
            self.inner.visit_some(Bounded {
                inner: deserializer,
                budget,
            })
        })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<V::Value, D::Error> {
        let budget = self.budget;
        budget.nested(|| {
            self.inner.visit_newtype_struct(Bounded {
                inner: deserializer,
                budget,
            })
        })
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(Wrap::new(seq, self.budget))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Wrap::new(map, self.budget))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(Wrap::new(data, self.budget))
    }
}

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for Wrap<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(Wrap::new(seed, self.budget))
    }

    fn size_hint(&self) -> Option<usize> {
        self.budget.grant(self.inner.size_hint())
    }
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for Wrap<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(Wrap::new(seed, self.budget))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.next_value_seed(Wrap::new(seed, self.budget))
    }

    fn size_hint(&self) -> Option<usize> {
        self.budget.grant(self.inner.size_hint())
    }
}

impl<'de, 'b, A: de::EnumAccess<'de>> de::EnumAccess<'de> for Wrap<'b, A> {
    type Error = A::Error;
    type Variant = Wrap<'b, A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let budget = self.budget;
        let (value, variant) = self.inner.variant_seed(Wrap::new(seed, budget))?;
        Ok((value, Wrap::new(variant, budget)))
    }
}

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for Wrap<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.inner
            .newtype_variant_seed(Wrap::new(seed, self.budget))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner
            .tuple_variant(len, Wrap::new(visitor, self.budget))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner
            .struct_variant(fields, Wrap::new(visitor, self.budget))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    #[test]
    fn values_round_trip() {
        let value: HashMap<String, Vec<Option<(u8, String)>>> =
            HashMap::from([("a".into(), vec![None, Some((7, "x".into()))])]);
        let bytes = postcard::to_stdvec(&value).unwrap();
        assert_eq!(from_bytes::<HashMap<_, _>>(&bytes).unwrap(), value);
    }

    #[test]
    fn a_claimed_length_is_not_preallocated_beyond_the_input() {
        // A map claiming 2^32 entries in five bytes.
        let bytes = [0x80, 0x80, 0x80, 0x80, 0x10];
        let budget = Budget {
            elements: Cell::new(bytes.len()),
            depth: Cell::new(0),
        };
        assert_eq!(budget.grant(Some(1 << 32)), Some(5));
        assert_eq!(budget.grant(Some(3)), Some(0));
        assert!(from_bytes::<HashMap<u64, u64>>(&bytes).is_err());
        assert!(from_bytes::<BTreeMap<u64, u64>>(&bytes).is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code, reason = "only decoded")]
        struct Tree(Vec<Tree>);
        // Each 1 opens a one-element list holding the next level.
        let bytes = vec![1u8; 100_000];
        let error = from_bytes::<Tree>(&bytes).unwrap_err();
        assert_eq!(error, postcard::Error::SerdeDeCustom);
        let shallow = [[1u8; 10].as_slice(), &[0]].concat();
        assert!(from_bytes::<Tree>(&shallow).is_ok());
    }
}
