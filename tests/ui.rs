//! Compile-fail and compile-pass cases of the macros (trybuild). Regenerate expected output
//! with `TRYBUILD=overwrite cargo test --test ui`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/endpoint/*.rs");
    cases.compile_fail("tests/ui/roles/*.rs");
    cases.compile_fail("tests/ui/schema/*.rs");
    cases.compile_fail("tests/ui/resource/*.rs");
    // Misuses followed by uses of what the macro would have generated: only the first error.
    cases.compile_fail("tests/ui/failsoft_resource/*.rs");
    cases.compile_fail("tests/ui/repository/*.rs");
    cases.compile_fail("tests/ui/scope/*.rs");
    cases.compile_fail("tests/ui/failsoft/*.rs");
    cases.compile_fail("tests/ui/job/*.rs");
}
