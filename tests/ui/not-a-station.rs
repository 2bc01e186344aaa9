use choochoo::workflow;

#[derive(Default)]
struct Double;

fn double(x: &u64) -> u64 {
    x * 2
}

workflow! {
    fn twice(x: u64) -> u64 {
        double(x)
    }
}

fn main() {}
