//! The borrowed forms everywhere a station's inputs are read: in a check, through `map`,
//! from a literal, and in the builder's fan-in.
use choochoo::{station, workflow};
use std::path::Path;

/// Takes `&str` for its `String` input.
#[station(check = is_loud)]
fn shout(text: &str) -> String {
    text.to_uppercase()
}

/// A check may take the same borrowed forms as its station.
fn is_loud(text: &str, loud: &str) -> bool {
    loud == text.to_uppercase()
}

#[station]
fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

#[station]
fn total(numbers: &[u64]) -> u64 {
    numbers.iter().sum()
}

#[station]
fn is_markdown(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "md")
}

workflow! {
    fn loud_words(text: String) -> (String, Vec<String>, bool) {
        let loud = shout(text);
        let all = words(text);
        let each = map(shout, all);
        let markdown = is_markdown("docs/guide.md");
        (loud, each, markdown)
    }
}

fn main() {
    assert_eq!(shout("hi"), "HI");
    assert!(is_markdown(Path::new("a.md")));
    let _ = loud_words("hello world".to_owned());
    // The builder's fan-in: a list of nodes feeds the `Vec<u64>` input of a `&[u64]` station.
    let mut graph = choochoo::Graph::new();
    let parts: Vec<_> = (0..3u64).map(|n| graph.input(n)).collect();
    let _ = graph.add(Total, (&parts,));
}
