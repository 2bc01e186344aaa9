use choochoo::station;

#[station(check = is_created)]
fn create(name: &String) -> String {
    name.clone()
}

fn is_created(name: &u64) -> bool {
    *name > 0
}

fn main() {}
