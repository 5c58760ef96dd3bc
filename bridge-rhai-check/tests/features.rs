//! Each Rhai feature the bridge cannot run with stops the build with one error naming it.
//!
//! Builds this crate (`cargo check`, in a target directory of its own under the workspace's) with
//! Rhai's features turned on the way a user's dependency would, two builds for the nine: one
//! with every feature whose error another does not hide, one with the two that hide another
//! (`no_function` turns `no_closure` on; `no_float` makes `f32_float` meaningless).

use std::path::Path;
use std::process::Command;

/// The `error[..]:` lines of `cargo check -p bridge-rhai-check` with `features` of Rhai on.
fn errors_with(features: &[&str]) -> Vec<String> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let features: Vec<String> = features.iter().map(|f| format!("rhai/{f}")).collect();
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace)
        .args(["check", "--locked", "--quiet", "--message-format=short"])
        .args(["-p", "bridge-rhai-check", "--features", &features.join(",")])
        .env(
            "CARGO_TARGET_DIR",
            workspace.join("target/rhai-feature-probes"),
        )
        .output()
        .expect("cargo runs");
    assert!(!output.status.success(), "the build should fail");
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.contains(": error"))
        .map(str::to_owned)
        .collect()
}

fn assert_one_error_each(errors: &[String], features: &[&str]) {
    for feature in features {
        let naming = errors
            .iter()
            .filter(|line| {
                line.contains(&format!(
                    "Rhai's `{feature}` feature is on, and bridge-runtime cannot run with it"
                ))
            })
            .count();
        assert_eq!(naming, 1, "one error for `{feature}`: {errors:#?}");
    }
    assert_eq!(errors.len(), features.len(), "no other errors: {errors:#?}");
}

#[test]
fn each_unsupported_feature_is_one_error_that_names_it() {
    let independent = [
        "only_i32",
        "f32_float",
        "unchecked",
        "no_closure",
        "no_object",
        "no_index",
    ];
    assert_one_error_each(&errors_with(&independent), &independent);
    let hiding = ["no_float", "no_function"];
    assert_one_error_each(&errors_with(&hiding), &hiding);
}

#[test]
fn sync_builds() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let status = Command::new(env!("CARGO"))
        .current_dir(workspace)
        .args(["check", "--locked", "--quiet", "-p", "bridge-rhai-check"])
        .args(["--features", "rhai/sync"])
        .env(
            "CARGO_TARGET_DIR",
            workspace.join("target/rhai-feature-probes"),
        )
        .status()
        .expect("cargo runs");
    assert!(status.success());
}
