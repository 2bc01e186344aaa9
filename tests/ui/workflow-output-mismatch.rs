use choochoo::{station, workflow};

#[station]
fn count(text: &String) -> u64 {
    text.len() as u64
}

workflow! {
    fn length(text: String) -> String {
        count(text)
    }
}

fn main() {}
