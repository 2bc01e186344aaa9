use choochoo::station;

#[station]
fn shout(text: String) -> String {
    text.to_uppercase()
}

fn main() {}
