use choochoo::station;
use std::fs::File;

#[station]
fn open_log(path: &String) -> File {
    File::open(path).unwrap()
}

fn main() {}
