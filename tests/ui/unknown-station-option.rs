use choochoo::station;

#[station(retries = 3)]
fn double(x: &u64) -> u64 {
    x * 2
}

fn main() {}
