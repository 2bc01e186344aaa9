use choochoo::{station, workflow};

#[station]
fn total(numbers: &[u64]) -> u64 {
    numbers.iter().sum()
}

workflow! {
    fn sum(numbers: Vec<u64>) -> u64 {
        total(numbers)
    }
}

fn main() {
    let _ = sum(vec![1, 2, 3]);
}
