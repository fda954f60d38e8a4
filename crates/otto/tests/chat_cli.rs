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

#[tokio::test]
async fn calls_are_listed_and_shown_with_their_transcript() {
    use otto_core::records::{CallDirection, Speaker, TurnTimings};
    use otto_store::{CallEnd, NewCall, NewToolAction, NewTurn};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("otto.db").display());
    let store = otto_store::connect(&db).await.unwrap();
    let at = chrono::Utc::now() - chrono::Duration::minutes(5);
    let call = store
        .start_call(&NewCall {
            call_sid: "CA0123456789abcdef0123456789abcdef".into(),
            direction: CallDirection::Inbound,
            from: "+15555550123".into(),
            to: "+15555550100".into(),
            started_at: at,
            customer_id: None,
        })
        .await
        .unwrap();
    for (i, (speaker, text)) in [
        (Speaker::Agent, "How can I help?"),
        (Speaker::Caller, "An oil change tomorrow at nine."),
        (Speaker::Agent, "Booked."),
    ]
    .into_iter()
    .enumerate()
    {
        store
            .append_turn(
                call.id,
                &NewTurn {
                    speaker,
                    text: text.into(),
                    at: at + chrono::Duration::seconds(i as i64 * 5),
                    interrupted: false,
                    timings: (i == 2).then_some(TurnTimings {
                        transcript_ms: 300,
                        first_text_ms: 400,
                        first_audio_ms: 500,
                        first_frame_ms: 512,
                    }),
                    seq: None,
                },
            )
            .await
            .unwrap();
    }
    store
        .record_tool_action(&NewToolAction {
            call_id: call.id,
            at: at + chrono::Duration::seconds(7),
            tool: "book_appointment".into(),
            detail: "Booked oil change (#1).".into(),
        })
        .await
        .unwrap();
    store
        .end_call(
            &call.call_sid,
            &CallEnd {
                ended_at: at + chrono::Duration::seconds(40),
                outcome: Some("booked".into()),
                summary: None,
                customer_id: None,
            },
        )
        .await
        .unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_otto"))
            .env("OTTO_DATABASE_URL", &db)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let list = run(&["calls", "list"]);
    assert!(
        list.contains("+15555550123") && list.contains("booked") && list.contains("40 s"),
        "{list}"
    );
    assert!(run(&["calls", "list", "--outcome", "message"]).contains("no calls"));
    // The same list as JSON, for scripts.
    let json: serde_json::Value = serde_json::from_str(&run(&["calls", "list", "--json"])).unwrap();
    assert_eq!(json[0]["call_sid"], "CA0123456789abcdef0123456789abcdef");
    assert_eq!(json[0]["outcome"], "booked");
    assert_eq!(json[0]["duration_secs"], 40);
    let none: serde_json::Value =
        serde_json::from_str(&run(&["messages", "list", "--json"])).unwrap();
    assert_eq!(none, serde_json::json!([]));
    let show = run(&["calls", "show", &call.id.to_string()]);
    let lines: Vec<&str> = show.lines().collect();
    let pos = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle}: {show}"))
    };
    assert!(
        pos("oil change tomorrow") < pos("[book_appointment]"),
        "{show}"
    );
    assert!(pos("[book_appointment]") < pos("Booked."), "{show}");
    assert!(show.contains("512 ms to first audio"), "{show}");
    let missing = Command::new(env!("CARGO_BIN_EXE_otto"))
        .env("OTTO_DATABASE_URL", &db)
        .args(["calls", "show", "999"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no call #999"));
}

#[test]
fn a_backup_is_a_working_copy_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("otto.db").display());
    let otto = |db: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_otto"))
            .env("OTTO_DATABASE_URL", db)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(otto(&db, &["db", "seed", "--demo"]).status.success());
    let copy = dir.path().join("backup.db");
    let out = otto(&db, &["db", "backup", copy.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The copy opens as a database with the same customers.
    let restored = format!("sqlite://{}", copy.display());
    let found = otto(&restored, &["customers", "find", "Jordan"]);
    assert!(String::from_utf8_lossy(&found.stdout).contains("Jordan Smith"));
    // A second backup to the same file is refused, and the file is left alone.
    let before = std::fs::metadata(&copy).unwrap().len();
    let again = otto(&db, &["db", "backup", copy.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), before);
}

#[test]
fn doctor_says_what_is_missing_and_fails_then() {
    let dir = tempfile::tempdir().unwrap();
    let doctor = |envs: &[(&str, String)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_otto"));
        cmd.env("OTTO_DATA_DIR", dir.path()).arg("doctor");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // A fresh directory: no speech model yet.
    let (ok, out) = doctor(&[]);
    assert!(!ok, "{out}");
    assert!(out.contains("ok    database"), "{out}");
    assert!(
        out.contains("FAIL  speech model") && out.contains("otto models fetch"),
        "{out}"
    );
    assert!(out.contains("warn  staff accounts"), "{out}");
    // With the model in place all is well; an LLM nobody answers for is named.
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/models/ggml-tiny.en.bin")
        .display()
        .to_string();
    let (ok, out) = doctor(&[("OTTO_SPEECH__WHISPER_MODEL", model.clone())]);
    assert!(ok, "{out}");
    assert!(out.contains("ok    speech model"), "{out}");
    let (ok, out) = doctor(&[
        ("OTTO_SPEECH__WHISPER_MODEL", model),
        ("OTTO_LLM__BASE_URL", "http://127.0.0.1:9/v1".into()),
        ("OTTO_LLM__MODEL", "gpt-test".into()),
    ]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("FAIL  llm") && out.contains("cannot connect"),
        "{out}"
    );
}

#[test]
fn customers_are_added_once_per_number_and_completions_print() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("otto.db").display());
    let otto = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_otto"))
            .env("OTTO_DATABASE_URL", &db)
            .args(args)
            .output()
            .unwrap()
    };
    let added = otto(&[
        "customers",
        "add",
        "--name",
        "Pat Lee",
        "--phone",
        "(555) 555-0177",
    ]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let found = otto(&["customers", "find", "+15555550177"]);
    assert!(String::from_utf8_lossy(&found.stdout).contains("Pat Lee"));
    // The same caller ID twice, a bad e-mail, an empty name: refused, nothing added.
    for args in [
        &[
            "customers",
            "add",
            "--name",
            "Pat Again",
            "--phone",
            "555-555-0177",
        ][..],
        &[
            "customers",
            "add",
            "--name",
            "Sam",
            "--phone",
            "555-555-0178",
            "--email",
            "not-an-email",
        ][..],
        &["customers", "add", "--name", " ", "--phone", "555-555-0179"][..],
    ] {
        let out = otto(args);
        assert!(!out.status.success(), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    }
    let found = otto(&["customers", "find", "Sam"]);
    assert!(String::from_utf8_lossy(&found.stdout).contains("no customer"));
    let completions = otto(&["completions", "bash"]);
    assert!(completions.status.success());
    assert!(String::from_utf8_lossy(&completions.stdout).contains("_otto"));
}

#[test]
fn seed_reset_starts_the_demo_afresh_and_keeps_staff() {
    let dir = tempfile::tempdir().unwrap();
    let otto = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_otto"))
            .env("OTTO_DATA_DIR", dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    assert!(otto(&["db", "seed", "--demo"]).status.success());
    let added = otto(&[
        "customers",
        "add",
        "--name",
        "Zed Zebra",
        "--phone",
        "555-555-0166",
    ]);
    assert!(added.status.success());
    let staff = otto(&["staff", "add", "kim", "--role", "staff", "--generate"]);
    assert!(
        staff.status.success(),
        "{}",
        String::from_utf8_lossy(&staff.stderr)
    );
    // Without --reset a seeded store is left alone.
    let again = otto(&["db", "seed", "--demo"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing seeded"));
    assert!(
        String::from_utf8_lossy(&otto(&["customers", "find", "Zed"]).stdout).contains("Zed Zebra")
    );

    let reset = otto(&["db", "seed", "--demo", "--reset"]);
    let said = String::from_utf8_lossy(&reset.stdout);
    assert!(reset.status.success(), "{said}");
    assert!(said.contains("deleted 201 customers"), "{said}");
    assert!(said.contains("seeded 200 customers"), "{said}");
    assert!(
        String::from_utf8_lossy(&otto(&["customers", "find", "Zed"]).stdout)
            .contains("no customer")
    );
    assert!(
        String::from_utf8_lossy(&otto(&["customers", "find", "Jordan"]).stdout)
            .contains("Jordan Smith")
    );
    assert!(String::from_utf8_lossy(&otto(&["staff", "list"]).stdout).contains("kim"));

    // The list commands speak JSON too.
    let json = |args: &[&str]| -> serde_json::Value {
        let out = otto(args);
        assert!(out.status.success(), "{args:?}");
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    };
    let found = json(&["customers", "find", "Jordan Smith", "--json"]);
    assert_eq!(found[0]["customer"]["phone"], "+15555550123");
    assert_eq!(found[0]["vehicles"][0]["make"], "Honda");
    let staff = json(&["staff", "list", "--json"]);
    assert_eq!(staff[0]["name"], "kim");
    assert!(
        !staff.to_string().contains("argon2"),
        "no password hash: {staff}"
    );
    let upcoming = json(&["appointments", "list", "--phone", "555-555-0123", "--json"]);
    assert!(upcoming.as_array().is_some_and(|a| {
        a.iter()
            .all(|x| x["customer_id"] == found[0]["customer"]["id"])
    }));
    assert_eq!(json(&["jobs", "list", "--json"]), serde_json::json!([]));
}
