//! Start here: three stations, one workflow, one run.
//!
//! `cargo run --release --example hello`

use choochoo::{Runner, Store, station, workflow};

/// Greets someone.
#[station]
fn greet(name: &str) -> String {
    format!("Hello, {name}")
}

/// Counts the letters of a text.
#[station]
fn letters(text: &str) -> usize {
    text.chars().filter(|c| c.is_alphabetic()).count()
}

/// Puts the greeting and its letter count together.
#[station]
fn sign(greeting: &str, letters: &usize, mark: &str) -> String {
    format!("{greeting}{mark} ({letters} letters)")
}

workflow! {
    /// Greets `name` and says how long the greeting is.
    fn hello(name: String) -> String {
        let greeting = greet(name);
        let n = letters(greeting);
        sign(greeting, n, "!")
    }
}

fn main() -> Result<(), choochoo::Error> {
    let store = Store::open(std::env::temp_dir().join("choochoo-hello"))?;
    let run = Runner::new(&store).run(hello("choochoo".to_owned()))?;
    println!("{}", run.output());
    println!("{}", run.report());
    Ok(())
}
