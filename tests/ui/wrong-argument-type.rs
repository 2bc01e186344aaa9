use choochoo::{station, workflow};

#[station]
fn shout(text: &String) -> String {
    text.to_uppercase()
}

#[station]
fn double(x: &u64) -> u64 {
    x * 2
}

workflow! {
    fn loud(text: String) -> u64 {
        let loud = shout(text);
        double(loud)
    }
}

fn main() {}
