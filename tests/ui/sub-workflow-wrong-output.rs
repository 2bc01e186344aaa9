use choochoo::{station, workflow};

#[station]
fn lower(text: &String) -> String {
    text.to_lowercase()
}

workflow! {
    fn normalize(text: String) -> String {
        lower(text)
    }
}

workflow! {
    fn count(text: String) -> u64 {
        normalize(text)
    }
}

fn main() {}
