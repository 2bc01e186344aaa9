use choochoo::station;

#[station]
fn first(words: &Vec<String>) -> &String {
    &words[0]
}

fn main() {}
