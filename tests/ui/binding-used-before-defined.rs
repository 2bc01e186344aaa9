use choochoo::{station, workflow};

#[station]
fn double(x: &u64) -> u64 {
    x * 2
}

workflow! {
    fn quadruple(x: u64) -> u64 {
        let b = double(a);
        let a = double(x);
        b
    }
}

fn main() {}
