//! Compile-fail tests: each file under `ui/` makes one mistake, and its `.stderr` is the
//! error a user sees. Regenerate with `TRYBUILD=overwrite cargo test -p tests --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
