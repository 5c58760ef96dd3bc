//! Two functions claiming one script name are reported when a bridge starts, never silently
//! overwritten. In its own binary: the clash poisons every bridge in the process.

use bridge_runtime::{script_async, Bridge, Error};

mod billing {
    #[bridge_runtime::script_async(name = "lookup")]
    pub async fn find_invoice(id: i64) -> i64 {
        id
    }
}

#[script_async]
async fn lookup(id: i64) -> i64 {
    id * 2
}

fn expect_duplicate(result: Result<Bridge, Error>) -> String {
    match result {
        Err(error @ Error::DuplicateFunction { .. }) => error.to_string(),
        Err(other) => panic!("expected a duplicate-name error, got {other}"),
        Ok(_) => panic!("expected a duplicate-name error, got a bridge"),
    }
}

#[test]
fn a_duplicate_script_name_fails_bridge_start_naming_both_functions() {
    let message = expect_duplicate(Bridge::new());
    assert_eq!(
        message,
        "two async functions are registered under the script name `lookup`: \
         `duplicate_names::billing::find_invoice` and `duplicate_names::lookup`; rename one with \
         #[script_async(name = \"...\")]"
    );
}

#[test]
fn run_reports_the_duplicate_too() {
    let error = bridge_runtime::run("lookup(1)").unwrap_err();
    assert!(matches!(error, Error::DuplicateFunction { .. }), "{error}");
}

#[test]
fn the_original_functions_still_work_from_rust() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(lookup(2)), 4);
    assert_eq!(runtime.block_on(billing::find_invoice(2)), 2);
}
