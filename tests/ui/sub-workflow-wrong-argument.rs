use choochoo::{station, workflow};

#[station]
fn lower(text: &String) -> String {
    text.to_lowercase()
}

#[station]
fn length(text: &String) -> u64 {
    text.len() as u64
}

workflow! {
    fn normalize(text: String) -> String {
        lower(text)
    }
}

workflow! {
    fn twice(text: String) -> String {
        let n = length(text);
        normalize(n)
    }
}

fn main() {}
