//! Stations are found by name or path, through imports and globs, and inside function
//! bodies; a name that is both a station and a local variable is still the station.
#![deny(warnings, missing_docs, unreachable_pub, missing_debug_implementations)]

mod tasks {
    use choochoo::station;

    /// Doubles.
    #[station]
    pub(crate) fn double(x: &u64) -> u64 {
        x * 2
    }

    /// Adds.
    #[station]
    pub(crate) fn add(a: &u64, b: &u64) -> u64 {
        a + b
    }
}

mod glob {
    use super::tasks::*;
    use choochoo::workflow;

    workflow! {
        /// Through a glob import.
        pub(crate) fn quadruple(x: u64) -> u64 {
            let y = double(x);
            double(y)
        }
    }
}

use choochoo::{station, workflow};

workflow! {
    /// By path, the same station twice, and by an import of the same function.
    fn sum_of_doubles(x: u64, y: u64) -> u64 {
        let a = tasks::double(x);
        let b = self::tasks::double(y);
        tasks::add(a, b)
    }
}

fn main() {
    /// Triples, defined in a function body.
    #[station]
    fn triple(x: &u64) -> u64 {
        x * 3
    }

    workflow! {
        fn nine_times(double: u64) -> u64 {
            let t = triple(double);
            triple(t)
        }
    }

    let _ = (glob::quadruple(1), sum_of_doubles(1, 2), nine_times(1));
}
