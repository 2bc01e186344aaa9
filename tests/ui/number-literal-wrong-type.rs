use choochoo::{station, workflow};

#[station]
fn shout(text: &String) -> String {
    text.to_uppercase()
}

workflow! {
    fn loud() -> String {
        shout(42)
    }
}

fn main() {}
