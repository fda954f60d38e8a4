//! `otto bench calls` end to end with two calls: the binary starts its own fake vendors and
//! `otto serve` child, places the calls and reports them. Figures are printed, not asserted
//! (speed goals live in the benchmark); what is asserted is that every call and every turn
//! was measured.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn the_call_benchmark_measures_every_call_and_turn() {
    let out = Command::new(env!("CARGO_BIN_EXE_otto"))
        .args(["bench", "calls", "--concurrency", "2", "--ramp-secs", "0"])
        .output()
        .expect("otto runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for expected in [
        "calls completed            2 of 2 (peak 2 active in Otto)",
        "(6 turns)",
        "(2 barge-ins)",
        "dropped by Otto: 0 towards Twilio, 0 towards STT",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing:\n{stdout}");
    }
    assert!(!stdout.contains("problem:"), "{stdout}");
}
