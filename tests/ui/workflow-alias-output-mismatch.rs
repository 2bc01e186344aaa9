use choochoo::{station, workflow};

#[station]
fn count(text: &String) -> u64 {
    text.len() as u64
}

#[station]
fn shout(text: &String) -> String {
    text.to_uppercase()
}

type Summary = (u64, String);

workflow! {
    fn summarize(text: String) -> Summary {
        let n = count(text);
        let loud = shout(text);
        (loud, n)
    }
}

fn main() {}
