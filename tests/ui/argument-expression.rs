use choochoo::{station, workflow};

#[station]
fn double(x: &u64) -> u64 {
    x * 2
}

workflow! {
    fn plus_one(x: u64) -> u64 {
        double(x + 1)
    }
}

fn main() {}
