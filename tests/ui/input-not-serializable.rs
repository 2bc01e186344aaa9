use choochoo::station;

struct Config {
    verbose: bool,
}

#[station]
fn describe(config: &Config) -> String {
    format!("verbose: {}", config.verbose)
}

fn main() {}
