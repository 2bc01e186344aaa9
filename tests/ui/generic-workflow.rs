use choochoo::{station, workflow};

#[station]
fn double(x: &u64) -> u64 {
    2 * x
}

workflow! {
    fn twice<T>(x: u64) -> u64 {
        double(x)
    }
}

fn main() {}
