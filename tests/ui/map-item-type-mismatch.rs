use choochoo::{station, workflow};

#[station]
fn words(text: &String) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

#[station]
fn double(n: &u64) -> u64 {
    n * 2
}

workflow! {
    fn doubled(text: String) -> Vec<u64> {
        let all = words(text);
        map(double, all)
    }
}

fn main() {}
