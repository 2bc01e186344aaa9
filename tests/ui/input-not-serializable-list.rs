use choochoo::station;

struct Config {
    verbose: bool,
}

#[station]
fn describe(configs: &Vec<Config>) -> String {
    format!("verbose: {}", configs.iter().any(|config| config.verbose))
}

fn main() {}
