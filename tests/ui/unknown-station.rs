use choochoo::{station, workflow};

#[station]
fn triple(x: &u64) -> u64 {
    x * 3
}

workflow! {
    fn nine_times(x: u64) -> u64 {
        let y = tripel(x);
        triple(y)
    }
}

fn main() {}
