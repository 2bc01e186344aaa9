use choochoo::station;

struct Counter;

impl Counter {
    #[station]
    fn count(&self, text: &String) -> u64 {
        text.len() as u64
    }
}

fn main() {}
