use choochoo::{station, workflow};

#[station]
fn double(x: &u64) -> u64 {
    x * 2
}

fn triple(x: &u64) -> u64 {
    x * 3
}

workflow! {
    fn sextuple(x: u64) -> u64 {
        let y = double(x);
        triple(y)
    }
}

fn main() {}
