use choochoo::station;

#[station]
fn parse(text: &String) -> Result<u64, ()> {
    text.parse().map_err(|_| ())
}

fn main() {}
