//! Compile tests: each file under `ui/` makes one mistake, and its `.stderr` is the error a
//! user sees; each file under `ui/pass/` is ordinary code that must compile and run.
//! Regenerate the errors with `TRYBUILD=overwrite cargo test -p tests --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
    t.pass("ui/pass/*.rs");
}
