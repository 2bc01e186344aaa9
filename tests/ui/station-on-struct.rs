use choochoo::station;

#[station]
struct Double;

fn main() {}
