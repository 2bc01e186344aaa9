//! Compile tests of choochoo without its `tokio` feature: an `async fn` station is one error
//! that says how to turn it on. Regenerate with
//! `TRYBUILD=overwrite cargo test -p tests-without-tokio --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
