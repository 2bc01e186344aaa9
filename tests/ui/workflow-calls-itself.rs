use choochoo::{station, workflow};

#[station]
fn double(x: &u64) -> u64 {
    2 * x
}

workflow! {
    fn again(x: u64) -> u64 {
        let y = double(x);
        again(y)
    }
}

fn main() {}
