use choochoo::station;

#[station]
fn sum(
    a: &u64, b: &u64, c: &u64, d: &u64, e: &u64, f: &u64, g: &u64,
    h: &u64, i: &u64, j: &u64, k: &u64, l: &u64, m: &u64,
) -> u64 {
    a + b + c + d + e + f + g + h + i + j + k + l + m
}

fn main() {}
