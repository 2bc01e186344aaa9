use choochoo::{station, Secret};

#[station]
fn leak(password: &Secret<String>) -> Result<Secret<String>, std::io::Error> {
    Ok(password.clone())
}

fn main() {}
