use choochoo::{station, workflow};

#[station]
fn double(x: &u64) -> u64 {
    x * 2
}

workflow! {
    fn doubled(x: u64) -> u64 {
        double(x, x, x, x, x, x, x, x, x, x, x, x, x)
    }
}

fn main() {}
