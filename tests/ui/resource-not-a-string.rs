use choochoo::station;

#[station(resources = ["db", gpu])]
fn train(model: &u64) -> u64 {
    *model
}

fn main() {}
