//! `otto eval` from the command line on a small fixture: the report, the JSON results, the
//! threshold's exit code.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use std::process::Command;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/eval-small.jsonl"
);

#[test]
fn eval_reports_per_category_and_fails_below_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results.json");
    let out = Command::new(env!("CARGO_BIN_EXE_otto"))
        .args(["eval", FIXTURE, "--verbose", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    // Three scenarios pass; the fourth expects a booking the caller never asked for.
    assert!(
        stdout.contains("overall                3/4     75.0%"),
        "{stdout}"
    );
    assert!(stdout.contains("FAILED small-fails-1"), "{stdout}");
    assert!(stdout.contains("wrong writes         0"), "{stdout}");
    assert!(
        stdout.trim_end().ends_with("eval: 3 passed, 1 failed"),
        "{stdout}"
    );
    let results: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(results["results"].as_array().unwrap().len(), 4);
    assert_eq!(results["report"]["passed"], 3);

    let out = Command::new(env!("CARGO_BIN_EXE_otto"))
        .args(["eval", FIXTURE, "--min-success", "90"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("below --min-success 90.0%"));
}
