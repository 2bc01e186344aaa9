use choochoo::station;

#[station(timeout = "soon")]
fn double(x: &u64) -> u64 {
    x * 2
}

fn main() {}
