use choochoo::station;
use std::io::Read;

#[station]
fn read_all(file: &std::fs::File) -> String {
    let mut text = String::new();
    let _ = (&*file).read_to_string(&mut text);
    text
}

fn main() {}
