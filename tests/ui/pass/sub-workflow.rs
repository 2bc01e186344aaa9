//! A sub-workflow from another module, called by path; its stations pass a type private to that module.

mod tasks {
    use choochoo::{station, workflow};
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    struct Words(Vec<String>);

    #[station]
    fn split(text: &str) -> Words {
        Words(text.split_whitespace().map(str::to_owned).collect())
    }

    #[station]
    fn count(words: &Words) -> usize {
        words.0.len()
    }

    workflow! {
        /// Counts the words of a text.
        pub fn word_count(text: String) -> usize {
            let words = split(text);
            count(words)
        }
    }
}

use choochoo::{Runner, Store, station, workflow};

#[station]
fn double(n: &usize) -> usize {
    2 * n
}

workflow! {
    fn doubled(text: String) -> (usize, usize) {
        let n = tasks::word_count(text);
        let twice = double(n);
        (n, twice)
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let run = Runner::new(&store).run(doubled("one two three".to_owned())).unwrap();
    assert_eq!(run.into_output(), (3, 6));
}
