use choochoo::{station, workflow};

struct Config {
    verbose: bool,
}

#[station]
fn describe(text: &String) -> String {
    text.clone()
}

workflow! {
    fn describe_all(config: Config, text: String) -> String {
        describe(text)
    }
}

fn main() {}
