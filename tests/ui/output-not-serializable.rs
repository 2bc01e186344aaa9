use choochoo::station;

struct Summary {
    words: u64,
}

#[station]
fn summarize(text: &String) -> Summary {
    Summary {
        words: text.split_whitespace().count() as u64,
    }
}

fn main() {}
