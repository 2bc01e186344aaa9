use choochoo::{station, workflow};

#[station]
fn count(text: &String) -> u64 {
    text.len() as u64
}

#[station]
fn shout(text: &String) -> String {
    text.to_uppercase()
}

workflow! {
    fn both(text: String) -> (u64, u64) {
        let n = count(text);
        let loud = shout(text);
        (n, loud)
    }
}

fn main() {}
