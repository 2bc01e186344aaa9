use choochoo::{station, workflow};

#[station]
fn double(x: &u64) -> u64 {
    x * 2
}

workflow! {
    fn twice(x: u64) -> u64 {
        let x = double(x);
        double(x)
    }
}

fn main() {}
