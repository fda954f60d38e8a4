//! `otto chat` from the command line: labels, and a clock held at `--now`.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Stdio};

fn chat(now: &str, lines: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_otto"))
        .env("OTTO_DATABASE_URL", "sqlite::memory:")
        .args(["chat", "--from", "+15555550177", "--now", now])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn chat_shows_who_speaks_and_runs_at_the_given_time() {
    // Thursday 6 August 2026, 09:15: "tomorrow" is Friday the 7th.
    let (ok, out, err) = chat(
        "2026-08-06 09:15",
        "I need an oil change tomorrow at 10\nPat Lee\n2019 Honda Civic\nno\nyes\n",
    );
    assert!(ok, "{err}");
    assert!(out.starts_with("Otto: "), "{out}");
    assert!(out.contains("You: "), "{out}");
    assert!(out.contains("Friday, August 7 at 10:00 AM"), "{out}");
    // On a Sunday the shop is closed, whatever the real date is.
    let (ok, out, _) = chat(
        "2026-08-09 10:00",
        "an oil change today at 11\nPat Lee\n2019 Honda Civic\nno\n",
    );
    assert!(ok);
    assert!(out.contains("closed"), "{out}");
}

#[test]
fn a_message_left_in_chat_is_listed_for_the_staff() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("otto.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_otto"))
        .env("OTTO_DATABASE_URL", &db)
        .args([
            "chat",
            "--from",
            "+15555550177",
            "--now",
            "2026-08-06 09:15",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"can I leave a message\nplease call me back about my invoice\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let out = Command::new(env!("CARGO_BIN_EXE_otto"))
        .env("OTTO_DATABASE_URL", &db)
        .args(["messages", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        listed.contains("+15555550177: please call me back about my invoice"),
        "{listed}"
    );
}

#[test]
fn a_bad_now_is_refused_with_the_expected_form() {
    let (ok, _, err) = chat("next tuesday", "");
    assert!(!ok);
    assert!(err.contains("YYYY-MM-DD HH:MM"), "{err}");
}

#[test]
fn logs_have_no_colour_codes_when_not_a_terminal() {
    let out = Command::new(env!("CARGO_BIN_EXE_otto"))
        .env("OTTO_DATABASE_URL", "sqlite::memory:")
        .env("OTTO_LOG__FILTER", "debug")
        .args(["db", "migrate"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DEBUG"), "something was logged: {err}");
    assert!(!err.contains('\u{1b}'), "no ANSI escapes in a pipe: {err}");
}

#[test]
fn a_reader_that_goes_away_ends_a_listing_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("otto.db").display());
    let seeded = Command::new(env!("CARGO_BIN_EXE_otto"))
        .env("OTTO_DATABASE_URL", &db)
        .args(["db", "seed", "--demo"])
        .output()
        .unwrap();
    assert!(seeded.status.success());
    // `otto customers find a | head -0`.
    let mut child = Command::new(env!("CARGO_BIN_EXE_otto"))
        .env("OTTO_DATABASE_URL", &db)
        .args(["customers", "find", "a"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader is gone before the first line is written (the listing starts only after
    // the database opens), so the write meets a closed pipe for sure.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {err}", out.status);
    assert!(!err.contains("panicked"), "{err}");
}
