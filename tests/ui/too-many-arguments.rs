use choochoo::{station, workflow};

#[station]
fn add(a: &u64, b: &u64) -> u64 {
    a + b
}

workflow! {
    fn sum(a: u64, b: u64) -> u64 {
        add(a, b, a)
    }
}

fn main() {}
