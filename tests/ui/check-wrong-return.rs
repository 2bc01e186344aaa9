use choochoo::station;

#[station(check = is_there)]
fn create(name: &String) -> String {
    name.clone()
}

fn is_there(_name: &str, _created: &str) -> String {
    "yes".to_owned()
}

fn main() {}
