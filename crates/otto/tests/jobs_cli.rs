//! `otto jobs list` and `otto worker` from the command line, on a fresh SQLite database.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn otto(dir: &tempfile::TempDir) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_otto"));
    c.env(
        "OTTO_DATABASE_URL",
        format!("sqlite://{}", dir.path().join("otto.db").display()),
    )
    .env("OTTO_DATA_DIR", dir.path())
    .env("OTTO_WORKER__POLL_MS", "50");
    c
}

#[test]
fn jobs_are_listed_and_a_bad_status_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = otto(&dir).args(["jobs", "list"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "no jobs");

    let out = otto(&dir)
        .args(["jobs", "list", "--status", "sleeping"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sleeping") && err.contains("pending"), "{err}");

    let out = otto(&dir)
        .env("OTTO_WORKER__CONCURRENCY", "0")
        .args(["jobs", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("worker"));
}

#[test]
fn the_worker_runs_until_sigterm_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = otto(&dir)
        .arg("worker")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the worker keeps running"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the worker did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(status.success(), "{log}");
    assert!(log.contains("job worker stopped"), "{log}");
}
