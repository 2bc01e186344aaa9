use choochoo::station;

#[station]
fn bump(x: &mut u64) -> u64 {
    *x += 1;
    *x
}

fn main() {}
