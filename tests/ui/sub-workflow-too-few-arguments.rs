use choochoo::{station, workflow};

#[station]
fn join(a: &String, b: &String) -> String {
    format!("{a}{b}")
}

workflow! {
    fn joined(first: String, second: String) -> String {
        join(first, second)
    }
}

workflow! {
    fn outer(text: String) -> String {
        joined(text)
    }
}

fn main() {}
