use choochoo::{station, workflow};

#[station]
fn count(text: &String) -> usize {
    text.len()
}

#[station]
fn double(n: &usize) -> usize {
    n * 2
}

workflow! {
    fn doubled(text: String) -> Vec<usize> {
        let n = count(text);
        map(double, n)
    }
}

fn main() {}
