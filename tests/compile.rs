//! Compile-time behaviour of `#[script_async]`: every rejected input fails with its reviewed
//! message (`tests/compile-fail/*.stderr`), every accepted shape and golden fixture builds.
//!
//! Compiler messages change between Rust releases, so the reviewed output is pinned to one
//! toolchain, rustc 1.95 (this machine's); on any other it is skipped. To accept new output on
//! purpose: `TRYBUILD=overwrite cargo test --test compile`, then review the diff.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "compile-fail output is reviewed on rustc 1.95"
)]
#[test]
fn rejected_inputs_fail_with_their_reviewed_messages() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/compile-fail/*.rs");
}

#[test]
fn accepted_shapes_and_golden_fixtures_compile() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/compile-pass/*.rs");
    cases.pass("bridge-macros/tests/expand/*.rs");
}
