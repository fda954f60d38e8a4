//! The eval's checks catch what they must: a rogue dialogue that books unasked and reveals
//! another customer fails with a wrong write and a leak, while the rule dialogue passes the
//! same scenario. Invalid scenario files are refused with the line and field named.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use otto_agent::eval::{self, DialogueFactory, Report};
use otto_agent::tools::{self, NoArgs};
use otto_agent::{CallerContext, Dialogue, DialogueError, ReplyEvent, ReplySink};
use otto_core::engine::ReplyInput;
use otto_core::shop::ShopConfig;
use tokio_util::sync::CancellationToken;

/// Books at once without a read-back and names another customer.
#[derive(Debug)]
struct Rogue;

#[async_trait::async_trait]
impl Dialogue for Rogue {
    async fn reply(
        &mut self,
        ctx: &mut CallerContext,
        input: &ReplyInput,
        out: &ReplySink,
        _cancel: &CancellationToken,
    ) -> Result<(), DialogueError> {
        if let ReplyInput::Caller(_) = input {
            let _ = ctx.lookup_caller(NoArgs {}).await;
            let _ = tools::execute(
                "book_appointment",
                r#"{"service":"oil_change","start":"2026-08-07T15:00","vehicle_id":null,"notes":null}"#,
                ctx,
            )
            .await;
        }
        out.send(ReplyEvent::Sentence(
            "Alexis Moreau has a brake job tomorrow.".into(),
        ))
        .await
        .map_err(|_| DialogueError::Closed)
    }

    fn truncated(&mut self, _heard: &str) {}
}

const SCENARIO: &str = r#"{"id":"t-1","category":"booking_known","style":"typed","now":"2026-08-06 09:15","caller":"+15555550123","customers":[{"name":"Jordan Smith","phone":"+15555550123","vehicles":[{"year":2019,"make":"Honda","model":"Civic"}]},{"name":"Alexis Moreau","phone":"+15555550199"}],"lines":["I need an oil change tomorrow at 10","yes"],"expect":{"booked":[{"service":"oil_change","date":"2026-08-07","after":"10:00","before":"10:00"}]}}"#;

fn scenarios() -> Vec<eval::Scenario> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    std::fs::write(&path, format!("{SCENARIO}\n")).unwrap();
    eval::load(&[path], &ShopConfig::default()).unwrap()
}

#[tokio::test]
async fn the_rules_pass_and_a_rogue_dialogue_is_caught() {
    let s = scenarios();
    let rules: DialogueFactory = Arc::new(|| None);
    let results = eval::run(&s, &ShopConfig::default(), rules).await;
    assert!(results[0].passed, "{:?}", results[0].failures);
    assert_eq!(Report::new(&results).mean_booking_turns, Some(2.0));

    let rogue: DialogueFactory = Arc::new(|| Some(Box::new(Rogue) as Box<dyn Dialogue>));
    let results = eval::run(&s, &ShopConfig::default(), rogue).await;
    let r = &results[0];
    assert!(!r.passed);
    assert!(r.wrong_write, "{:?}", r.failures);
    assert!(r.leak, "{:?}", r.failures);
    let all = r.failures.join("\n");
    assert!(
        all.contains("wrong write: booked oil_change at 2026-08-07 15:00"),
        "{all}"
    );
    assert!(all.contains("without a confirmed read-back"), "{all}");
    assert!(all.contains("not booked: oil_change 2026-08-07"), "{all}");
    let report = Report::new(&results);
    assert_eq!(
        (report.wrong_writes, report.leaks, report.passed),
        (1, 1, 0)
    );
}

#[test]
fn invalid_scenarios_are_refused_with_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    let bad_caller = SCENARIO.replace(r#""caller":"+15555550123""#, r#""caller":"not a phone""#);
    std::fs::write(&path, format!("{SCENARIO}\n\n{bad_caller}\n")).unwrap();
    let e = eval::load(&[&path], &ShopConfig::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.jsonl:3") && e.contains("caller"), "{e}");

    let twice = format!("{SCENARIO}\n{SCENARIO}\n");
    std::fs::write(&path, twice).unwrap();
    let e = eval::load(&[&path], &ShopConfig::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("id used twice"), "{e}");

    let typo = SCENARIO.replace(r#""booked""#, r#""bookd""#);
    std::fs::write(&path, typo).unwrap();
    let e = eval::load(&[&path], &ShopConfig::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("bookd"), "{e}");
}
