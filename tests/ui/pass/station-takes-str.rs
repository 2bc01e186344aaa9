use choochoo::{station, workflow};

#[station]
fn shout(text: &str) -> String {
    text.to_uppercase()
}

workflow! {
    fn loud(text: String) -> String {
        shout(text)
    }
}

fn main() {
    let _ = loud("hello".to_owned());
}
