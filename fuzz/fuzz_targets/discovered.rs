#![no_main]

use choochoo::fuzz::Decoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| choochoo_fuzz::check(Decoder::Discovered, bytes));
