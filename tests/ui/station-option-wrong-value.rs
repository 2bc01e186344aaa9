use choochoo::station;

#[station(version = "2")]
fn double(x: &u64) -> u64 {
    x * 2
}

fn main() {}
