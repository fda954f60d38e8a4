//! `FakeTwilioRest` as Twilio for outbound SMS and calls: fresh sids, records, scripted
//! outcomes, and asynchronous signed callbacks (`shared/protocols/twilio.md` §a.2, §b.1, §e)
//! received by a small local server that checks each signature on its own.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use otto_fakes::twilio::{
    CallOutcome, CallbackDelivery, FakeTwilioRest, MessageOutcome, PlacedCall, ScriptedFailure,
    SentMessage,
};
use serde_json::Value;
use sha1::Sha1;

const ACCOUNT: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "test_auth_token_0123456789abcdef";
const FROM: &str = "+15005550006";
const WAIT: Duration = Duration::from_secs(5);

/// Independent §b.1 check: HMAC-SHA1 over the URL and the sorted name+value pairs, base64.
fn verify(token: &str, url: &str, form: &[(String, String)], header: &str) -> bool {
    let mut params = form.to_vec();
    params.sort();
    let mut data = url.to_string();
    for (k, v) in params {
        data.push_str(&k);
        data.push_str(&v);
    }
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    mac.verify_slice(&BASE64.decode(header).unwrap_or_default())
        .is_ok()
}

/// One callback as the test's server received it.
#[derive(Debug, Clone)]
struct Received {
    /// Path and query, e.g. `/sms-status?shop=1`.
    target: String,
    form: Vec<(String, String)>,
    content_type: String,
    signature_ok: bool,
    idempotency_token: String,
}

impl Received {
    fn get(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn names(&self) -> Vec<&str> {
        self.form.iter().map(|(k, _)| k.as_str()).collect()
    }
}

#[derive(Clone)]
struct Receiver {
    base: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// A server on 127.0.0.1:0 that records every POST; paths under `/fail` answer 500.
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let receiver = Self {
            base,
            got: Arc::default(),
        };
        let app = Router::new().fallback(receive).with_state(receiver.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        receiver
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn at(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.target.split('?').next() == Some(path))
            .collect()
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let target = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let url = format!("{}{target}", receiver.base);
    let signature_ok = verify(TOKEN, &url, &form, &header("x-twilio-signature"));
    let failing = target.starts_with("/fail");
    receiver.got.lock().unwrap().push(Received {
        target,
        form,
        content_type: header("content-type"),
        signature_ok,
        idempotency_token: header("i-twilio-idempotency-token"),
    });
    if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

struct Setup {
    fake: FakeTwilioRest,
    rx: Receiver,
    http: reqwest::Client,
}

async fn setup() -> Setup {
    Setup {
        fake: FakeTwilioRest::start(ACCOUNT, TOKEN).await,
        rx: Receiver::start().await,
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
    }
}

impl Setup {
    async fn post(&self, resource: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter())
            .finish();
        let auth = BASE64.encode(format!("{ACCOUNT}:{TOKEN}"));
        let res = self
            .http
            .post(format!(
                "{}/2010-04-01/Accounts/{ACCOUNT}/{resource}",
                self.fake.base_url()
            ))
            .header("Authorization", format!("Basic {auth}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let bytes = res.bytes().await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    async fn sms(&self, to: &str, body: &str, callback: Option<&str>) -> String {
        let mut form = vec![("To", to), ("From", FROM), ("Body", body)];
        if let Some(url) = callback {
            form.push(("StatusCallback", url));
        }
        let (status, json) = self.post("Messages.json", &form).await;
        assert_eq!(status, 201, "{json}");
        json["sid"].as_str().unwrap().to_string()
    }

    async fn call(&self, form: &[(&str, &str)]) -> String {
        let (status, json) = self.post("Calls.json", form).await;
        assert_eq!(status, 201, "{json}");
        json["sid"].as_str().unwrap().to_string()
    }

    /// Waits for `n` recorded deliveries at the fake, then checks every received callback's
    /// headers and signature.
    async fn settle(&self, n: usize) -> Vec<Received> {
        assert!(
            self.fake.wait_for_callbacks(n, WAIT).await,
            "expected {n} callbacks, got {:?}",
            self.fake.callbacks()
        );
        let got = self.rx.received();
        for r in &got {
            assert!(r.signature_ok, "bad signature on {r:?}");
            assert_eq!(r.content_type, "application/x-www-form-urlencoded");
            assert!(!r.idempotency_token.is_empty(), "{r:?}");
        }
        got
    }
}

fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34
        && s.starts_with(prefix)
        && s[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[tokio::test]
async fn created_messages_and_calls_get_fresh_sids_and_are_recorded() {
    let s = setup().await;
    let (status, first) = s
        .post(
            "Messages.json",
            &[
                ("To", "+14155551234"),
                ("From", FROM),
                ("Body", "Hello there"),
            ],
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(first["to"], "+14155551234");
    assert_eq!(first["from"], FROM);
    assert_eq!(first["body"], "Hello there");
    assert_eq!(first["status"], "queued");
    assert_eq!(first["direction"], "outbound-api");
    assert_eq!(first["num_segments"], "1");
    let m1 = first["sid"].as_str().unwrap().to_string();
    let m2 = s
        .sms("+14155550000", "Second", Some("http://x.invalid/"))
        .await;
    assert!(is_sid(&m1, "SM") && is_sid(&m2, "SM"), "{m1} {m2}");
    assert_ne!(m1, m2);
    assert!(first["uri"].as_str().unwrap().contains(&m1));

    let (status, call) = s
        .post(
            "Calls.json",
            &[
                ("To", "+14155551234"),
                ("From", FROM),
                ("Url", "https://voice.example.com/twilio/outbound"),
                ("MachineDetection", "Enable"),
            ],
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(call["status"], "queued");
    assert_eq!(call["to"], "+14155551234");
    assert_eq!(call["from"], FROM);
    let c1 = call["sid"].as_str().unwrap().to_string();
    let c2 = s
        .call(&[
            ("To", "+14155550000"),
            ("From", FROM),
            ("Twiml", "<Response><Hangup/></Response>"),
        ])
        .await;
    assert!(is_sid(&c1, "CA") && is_sid(&c2, "CA"), "{c1} {c2}");
    assert_ne!(c1, c2);

    assert_eq!(
        s.fake.messages(),
        vec![
            SentMessage {
                sid: m1,
                to: "+14155551234".into(),
                from: FROM.into(),
                body: "Hello there".into(),
                status_callback: None,
            },
            SentMessage {
                sid: m2,
                to: "+14155550000".into(),
                from: FROM.into(),
                body: "Second".into(),
                status_callback: Some("http://x.invalid/".into()),
            },
        ]
    );
    assert_eq!(
        s.fake.calls(),
        vec![
            PlacedCall {
                sid: c1,
                to: "+14155551234".into(),
                from: FROM.into(),
                url: Some("https://voice.example.com/twilio/outbound".into()),
                twiml: None,
                status_callback: None,
                machine_detection: Some("Enable".into()),
                async_amd_callback: None,
            },
            PlacedCall {
                sid: c2,
                to: "+14155550000".into(),
                from: FROM.into(),
                url: None,
                twiml: Some("<Response><Hangup/></Response>".into()),
                status_callback: None,
                machine_detection: None,
                async_amd_callback: None,
            },
        ]
    );

    // A scripted failure creates nothing; a bad `To` neither.
    s.fake.fail_next(ScriptedFailure::fixture(
        400,
        "twilio-rest-error-21610.json",
    ));
    let (status, err) = s
        .post("Messages.json", &[("To", "+14155551234"), ("Body", "x")])
        .await;
    assert_eq!((status, err["code"].as_u64()), (400, Some(21610)));
    let (status, err) = s
        .post("Calls.json", &[("To", "5551234567"), ("From", FROM)])
        .await;
    assert_eq!((status, err["code"].as_u64()), (400, Some(21211)));
    assert_eq!(s.fake.messages().len(), 2);
    assert_eq!(s.fake.calls().len(), 2);
    assert_eq!(s.fake.requests().len(), 6);
}

#[tokio::test]
async fn message_status_callbacks_are_sent_then_delivered() {
    let s = setup().await;
    let url = s.rx.url("/sms-status?shop=1");
    let sid = s.sms("+14155551234", "Your car is ready", Some(&url)).await;
    let got = s.settle(2).await;
    assert_eq!(got.len(), 2);
    let statuses: Vec<_> = got
        .iter()
        .map(|r| r.get("MessageStatus").unwrap())
        .collect();
    assert_eq!(statuses, ["sent", "delivered"]);
    for r in &got {
        assert_eq!(r.target, "/sms-status?shop=1");
        assert_eq!(
            r.names(),
            [
                "SmsSid",
                "SmsStatus",
                "MessageStatus",
                "To",
                "MessageSid",
                "AccountSid",
                "From",
                "ApiVersion"
            ]
        );
        assert_eq!(r.get("SmsSid"), Some(sid.as_str()));
        assert_eq!(r.get("MessageSid"), Some(sid.as_str()));
        assert_eq!(r.get("SmsStatus"), r.get("MessageStatus"));
        assert_eq!(r.get("To"), Some("+14155551234"));
        assert_eq!(r.get("From"), Some(FROM));
        assert_eq!(r.get("AccountSid"), Some(ACCOUNT));
        assert_eq!(r.get("ApiVersion"), Some("2010-04-01"));
    }
    assert_ne!(got[0].idempotency_token, got[1].idempotency_token);
    let recorded = s.fake.callbacks();
    assert_eq!(recorded.len(), 2);
    assert!(
        recorded
            .iter()
            .all(|d| d.url == url && d.status == Some(204))
    );
    assert_eq!(recorded[1].form, got[1].form);
}

#[tokio::test]
async fn scripted_message_failures_carry_an_error_code() {
    let s = setup().await;
    s.fake
        .set_message_outcome("+14155550001", MessageOutcome::Undelivered(30003));
    s.fake
        .set_message_outcome("+14155550002", MessageOutcome::Failed(30008));
    s.sms("+14155550001", "a", Some(&s.rx.url("/one"))).await;
    s.sms("+14155550002", "b", Some(&s.rx.url("/two"))).await;
    s.sms("+14155550003", "no callback", None).await;
    s.settle(4).await;
    let one = s.rx.at("/one");
    assert_eq!(one[0].get("MessageStatus"), Some("sent"));
    assert_eq!(one[0].get("ErrorCode"), None);
    assert_eq!(one[1].get("MessageStatus"), Some("undelivered"));
    assert_eq!(one[1].get("SmsStatus"), Some("undelivered"));
    assert_eq!(one[1].get("ErrorCode"), Some("30003"));
    assert_eq!(one[1].names().last(), Some(&"ErrorCode"));
    let two = s.rx.at("/two");
    assert_eq!(two[1].get("MessageStatus"), Some("failed"));
    assert_eq!(two[1].get("ErrorCode"), Some("30008"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        s.fake.callbacks().len(),
        4,
        "a message without StatusCallback"
    );
}

#[tokio::test]
async fn async_amd_reports_human_and_machine() {
    let s = setup().await;
    let amd = s.rx.url("/amd?c=1");
    let human = s
        .call(&[
            ("To", "+14155551234"),
            ("From", FROM),
            ("Url", "http://127.0.0.1:9/outbound"),
            ("MachineDetection", "Enable"),
            ("AsyncAmd", "true"),
            ("AsyncAmdStatusCallback", &amd),
        ])
        .await;
    s.settle(1).await;
    s.fake
        .set_call_outcome("+14155550009", CallOutcome::Machine);
    let beep = s
        .call(&[
            ("To", "+14155550009"),
            ("From", FROM),
            ("Url", "http://127.0.0.1:9/outbound"),
            ("MachineDetection", "DetectMessageEnd"),
            ("AsyncAmd", "true"),
            ("AsyncAmdStatusCallback", &amd),
        ])
        .await;
    let start = s
        .call(&[
            ("To", "+14155550009"),
            ("From", FROM),
            ("Url", "http://127.0.0.1:9/outbound"),
            ("MachineDetection", "Enable"),
            ("AsyncAmd", "true"),
            ("AsyncAmdStatusCallback", &amd),
        ])
        .await;
    let got = s.settle(3).await;
    let by_call = |sid: &str| got.iter().find(|r| r.get("CallSid") == Some(sid)).unwrap();
    let h = by_call(&human);
    assert_eq!(
        h.names(),
        [
            "CallSid",
            "AccountSid",
            "AnsweredBy",
            "MachineDetectionDuration"
        ]
    );
    assert_eq!(h.target, "/amd?c=1");
    assert_eq!(h.get("AnsweredBy"), Some("human"));
    assert_eq!(h.get("AccountSid"), Some(ACCOUNT));
    assert_eq!(h.get("MachineDetectionDuration"), Some("1830"));
    assert_eq!(by_call(&beep).get("AnsweredBy"), Some("machine_end_beep"));
    assert_eq!(by_call(&start).get("AnsweredBy"), Some("machine_start"));
}

#[tokio::test]
async fn unanswered_calls_get_their_terminal_status_callback() {
    let s = setup().await;
    s.fake
        .set_call_outcome("+14155550010", CallOutcome::NoAnswer);
    s.fake.set_call_outcome("+14155550011", CallOutcome::Busy);
    let status = s.rx.url("/status?shop=7");
    let amd = s.rx.url("/amd");
    let no_answer = s
        .call(&[
            ("To", "+14155550010"),
            ("From", FROM),
            ("Url", "http://127.0.0.1:9/outbound"),
            ("StatusCallback", &status),
            ("AsyncAmdStatusCallback", &amd),
        ])
        .await;
    let busy = s
        .call(&[
            ("To", "+14155550011"),
            ("From", FROM),
            ("Url", "http://127.0.0.1:9/outbound"),
            ("StatusCallback", &status),
        ])
        .await;
    let got = s.settle(2).await;
    assert!(s.rx.at("/amd").is_empty(), "no AMD for an unanswered call");
    let by_call = |sid: &str| got.iter().find(|r| r.get("CallSid") == Some(sid)).unwrap();
    let n = by_call(&no_answer);
    assert_eq!(n.target, "/status?shop=7");
    assert_eq!(
        n.names(),
        [
            "CallSid",
            "AccountSid",
            "From",
            "To",
            "CallStatus",
            "ApiVersion",
            "Direction",
            "Caller",
            "Called",
            "CallDuration",
            "Duration",
            "SipResponseCode"
        ]
    );
    assert_eq!(n.get("CallStatus"), Some("no-answer"));
    assert_eq!(n.get("SipResponseCode"), Some("487"));
    assert_eq!(n.get("CallDuration"), Some("0"));
    assert_eq!(n.get("Duration"), Some("0"));
    assert_eq!(n.get("Direction"), Some("outbound-api"));
    assert_eq!(n.get("To"), Some("+14155550010"));
    assert_eq!(n.get("Called"), Some("+14155550010"));
    assert_eq!(n.get("From"), Some(FROM));
    assert_eq!(n.get("Caller"), Some(FROM));
    assert_eq!(n.get("ApiVersion"), Some("2010-04-01"));
    let b = by_call(&busy);
    assert_eq!(b.get("CallStatus"), Some("busy"));
    assert_eq!(b.get("SipResponseCode"), Some("486"));

    // The call is over: a later hang-up sends nothing more.
    let (code, _) = s
        .post(&format!("Calls/{busy}.json"), &[("Status", "completed")])
        .await;
    assert_eq!(code, 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(s.fake.callbacks().len(), 2);
}

#[tokio::test]
async fn hanging_up_sends_the_completed_callback_after_amd() {
    let s = setup().await;
    let status = s.rx.url("/status");
    let amd = s.rx.url("/amd");
    let sid = s
        .call(&[
            ("To", "+14155551234"),
            ("From", FROM),
            ("Url", "http://127.0.0.1:9/outbound"),
            ("StatusCallback", &status),
            ("MachineDetection", "Enable"),
            ("AsyncAmd", "true"),
            ("AsyncAmdStatusCallback", &amd),
        ])
        .await;
    // Hang up at once: the completion still comes after the AMD callback.
    let (code, json) = s
        .post(&format!("Calls/{sid}.json"), &[("Status", "completed")])
        .await;
    assert_eq!(code, 200);
    assert_eq!(json["sid"], sid.as_str());
    assert_eq!(json["status"], "completed");
    let got = s.settle(2).await;
    assert_eq!(got[0].target, "/amd");
    assert_eq!(got[1].target, "/status");
    let done = &got[1];
    assert_eq!(done.get("CallSid"), Some(sid.as_str()));
    assert_eq!(done.get("CallStatus"), Some("completed"));
    assert_eq!(done.get("CallDuration"), Some("12"));
    assert_eq!(done.get("Duration"), Some("1"));
    assert_eq!(done.get("SipResponseCode"), Some("200"));
    assert_eq!(done.get("AnsweredBy"), Some("human"));
    assert_eq!(
        s.fake.call_updates(),
        vec![(sid.clone(), vec![("Status".into(), "completed".into())])]
    );
}

#[tokio::test]
async fn a_voicemail_twiml_update_ends_the_call() {
    let s = setup().await;
    s.fake
        .set_call_outcome("+14155550020", CallOutcome::Machine);
    let status = s.rx.url("/status");
    let sid = s
        .call(&[
            ("To", "+14155550020"),
            ("From", FROM),
            ("Url", "http://127.0.0.1:9/outbound"),
            ("StatusCallback", &status),
            ("MachineDetection", "DetectMessageEnd"),
            ("AsyncAmd", "true"),
            ("AsyncAmdStatusCallback", &s.rx.url("/amd")),
        ])
        .await;
    s.settle(1).await;
    let twiml = "<Response><Say>Your car is ready.</Say><Hangup/></Response>";
    let (code, json) = s
        .post(&format!("Calls/{sid}.json"), &[("Twiml", twiml)])
        .await;
    assert_eq!(code, 200);
    assert_eq!(json["status"], "in-progress");
    s.settle(2).await;
    let done = &s.rx.at("/status")[0];
    assert_eq!(done.get("CallStatus"), Some("completed"));
    assert_eq!(done.get("AnsweredBy"), Some("machine_end_beep"));
    assert_eq!(s.fake.call_updates()[0].1[0].1, twiml);
}

#[tokio::test]
async fn complete_call_ends_a_human_answered_call() {
    let s = setup().await;
    let status = s.rx.url("/status?call=abc123");
    let sid = s
        .call(&[
            ("To", "+14155551234"),
            ("From", FROM),
            ("Url", "http://127.0.0.1:9/outbound"),
            ("StatusCallback", &status),
        ])
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        s.fake.callbacks().is_empty(),
        "an answered call is in progress"
    );
    s.fake.complete_call(&sid, 75).await;
    // complete_call returns once the delivery was recorded.
    let got = s.settle(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].target, "/status?call=abc123");
    assert_eq!(got[0].get("CallStatus"), Some("completed"));
    assert_eq!(got[0].get("CallDuration"), Some("75"));
    assert_eq!(got[0].get("Duration"), Some("2"));
    assert_eq!(got[0].get("AnsweredBy"), None, "no AMD was asked for");
    // Ended: a second completion or a hang-up sends nothing; unknown sids are ignored.
    s.fake.complete_call(&sid, 5).await;
    s.fake
        .complete_call("CA0000000000000000000000000000dead", 5)
        .await;
    let (code, _) = s
        .post(&format!("Calls/{sid}.json"), &[("Status", "completed")])
        .await;
    assert_eq!(code, 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(s.fake.callbacks().len(), 1);
}

#[tokio::test]
async fn failed_deliveries_are_recorded_not_retried() {
    let s = setup().await;
    // A port nothing listens on: bind one, then free it.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    s.sms("+14155550030", "a", Some(&s.rx.url("/fail"))).await;
    s.sms(
        "+14155550031",
        "b",
        Some(&format!("http://{closed}/sms-status")),
    )
    .await;
    s.sms(
        "+14155550032",
        "c",
        Some("https://voice.example.com/twilio/sms-status"),
    )
    .await;
    s.settle(6).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let all = s.fake.callbacks();
    assert_eq!(all.len(), 6, "{all:?}");
    let statuses = |prefix: &str| -> Vec<Option<u16>> {
        all.iter()
            .filter(|d: &&CallbackDelivery| d.url.starts_with(prefix))
            .map(|d| d.status)
            .collect()
    };
    assert_eq!(statuses(&s.rx.url("/fail")), [Some(500), Some(500)]);
    assert_eq!(statuses(&format!("http://{closed}")), [None, None]);
    assert_eq!(statuses("https://voice.example.com"), [None, None]);
    assert_eq!(
        s.rx.received().len(),
        2,
        "only the loopback server was reached"
    );
}

#[tokio::test]
async fn callbacks_wait_for_the_configured_delay() {
    let s = setup().await;
    s.fake.set_callback_delay(Duration::from_millis(400));
    s.sms("+14155551234", "later", Some(&s.rx.url("/slow")))
        .await;
    assert!(
        !s.fake
            .wait_for_callbacks(1, Duration::from_millis(150))
            .await
    );
    assert!(s.rx.received().is_empty());
    assert!(s.fake.wait_for_callbacks(2, WAIT).await);
}
