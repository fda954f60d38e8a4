//! The REST client against `FakeTwilioRest`: request bodies byte-for-byte as the
//! `twilio-rest-*.form.txt` fixtures, Basic auth, and typed errors (§e).

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use otto_core::domain::PhoneNumber;
use otto_fakes::fixtures;
use otto_fakes::twilio::{FakeTwilioRest, ScriptedFailure};
use otto_twilio::TwilioError;
use otto_twilio::rest::{Answer, CallEvent, CallUpdate, CreateCall, RestClient, TwilioConfig};
use otto_twilio::twiml::{Dial, Response, Say};
use otto_twilio::webhook::CallStatus;
use otto_twilio::{AccountSid, CallSid};
use secrecy::SecretString;

const ACCOUNT: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "test_auth_token_0123456789abcdef";
const CALL: &str = "CA00000000000000000000000000000002";

fn config(base_url: &str, token: &str) -> TwilioConfig {
    TwilioConfig {
        account_sid: AccountSid::parse(ACCOUNT).expect("sid"),
        auth_token: SecretString::from(token),
        api_base_url: base_url.to_string(),
        timeout_ms: 5_000,
        from_number: PhoneNumber::parse("+15005550006").expect("number"),
    }
}

async fn setup() -> (FakeTwilioRest, RestClient) {
    let fake = FakeTwilioRest::start(ACCOUNT, TOKEN).await;
    let client = RestClient::new(&config(&fake.base_url(), TOKEN)).expect("client");
    (fake, client)
}

fn fixture_body(name: &str) -> String {
    fixtures::text(name).trim_end().to_string()
}

#[tokio::test]
async fn hang_up_sends_status_completed() {
    let (fake, client) = setup().await;
    let call = CallSid::parse(CALL).expect("sid");
    let res = client
        .update_call(&call, &CallUpdate::Hangup)
        .await
        .expect("hang up");
    assert_eq!(res.sid, call);
    assert_eq!(res.status, CallStatus::Completed);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].path,
        format!("/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}.json")
    );
    assert_eq!(
        reqs[0].body,
        fixture_body("twilio-rest-call-update-hangup.form.txt")
    );
}

#[tokio::test]
async fn twiml_update_matches_the_fixture_and_transfers() {
    let (fake, client) = setup().await;
    let call = CallSid::parse(CALL).expect("sid");
    let doc = Response::new()
        .say(Say::new("Your appointment is confirmed."))
        .hangup();
    let res = client
        .update_call(&call, &CallUpdate::Twiml(doc))
        .await
        .expect("update");
    assert_eq!(res.status, CallStatus::InProgress);
    assert_eq!(
        fake.requests()[0].body,
        fixture_body("twilio-rest-call-update-twiml.form.txt")
    );

    let transfer = Response::new().dial(Dial::new("+14155559876"));
    client
        .update_call(&call, &CallUpdate::Twiml(transfer))
        .await
        .expect("transfer");
    let form = &fake.requests()[1].form;
    assert_eq!(form[0].0, "Twiml");
    assert_eq!(
        form[0].1,
        "<Response><Dial><Number>+14155559876</Number></Dial></Response>"
    );
}

#[tokio::test]
async fn create_call_matches_the_fixture() {
    let (fake, client) = setup().await;
    let request = CreateCall {
        to: PhoneNumber::parse("+14155551234").expect("to"),
        answer: Answer::Url("https://voice.example.com/twilio/outbound".into()),
        status_callback: Some("https://voice.example.com/twilio/status".into()),
        status_callback_events: vec![
            CallEvent::Initiated,
            CallEvent::Ringing,
            CallEvent::Answered,
            CallEvent::Completed,
        ],
        async_amd_callback: Some("https://voice.example.com/twilio/amd".into()),
        amd_waits_for_beep: false,
        timeout_s: None,
    };
    let res = client.create_call(&request).await.expect("create");
    assert_eq!(res.sid.as_str(), CALL);
    assert_eq!(res.status, CallStatus::Queued);
    assert_eq!(res.direction.as_str(), "outbound-api");
    let reqs = fake.requests();
    assert_eq!(
        reqs[0].path,
        format!("/2010-04-01/Accounts/{ACCOUNT}/Calls.json")
    );
    assert_eq!(
        reqs[0].body,
        fixture_body("twilio-rest-call-create.form.txt")
    );
}

#[tokio::test]
async fn send_sms_matches_the_fixture() {
    let (fake, client) = setup().await;
    let to = PhoneNumber::parse("+14155551234").expect("to");
    let msg = client
        .send_sms(
            &to,
            "Your code is 123456",
            Some("https://voice.example.com/twilio/sms-status"),
        )
        .await
        .expect("sms");
    assert_eq!(msg.sid.as_str(), "SM00000000000000000000000000000005");
    assert_eq!(msg.status, "queued");
    assert_eq!(msg.num_segments, Some(1));
    assert_eq!(
        fake.requests()[0].body,
        fixture_body("twilio-rest-message-create.form.txt")
    );
}

#[tokio::test]
async fn the_rest_client_is_the_shops_notifier() {
    use otto_core::notify::Notifier;
    let (fake, client) = setup().await;
    let notifier: &dyn Notifier = &client;
    let to = PhoneNumber::parse("+14155551234").expect("to");
    let sid = notifier.send_sms(&to, "See you at 9").await.expect("sms");
    assert_eq!(sid, "SM00000000000000000000000000000005");
    assert!(fake.requests()[0].body.contains("Body=See+you+at+9"));

    fake.fail_next(ScriptedFailure::fixture(
        400,
        "twilio-rest-error-21610.json",
    ));
    let e = notifier.send_sms(&to, "hi").await.expect_err("21610");
    assert!(!e.retryable, "an unsubscribed number is final: {e:?}");
    assert!(e.message.contains("21610"), "{e}");
}

#[tokio::test]
async fn wrong_token_is_a_typed_401_that_is_not_retryable() {
    let fake = FakeTwilioRest::start(ACCOUNT, TOKEN).await;
    let client = RestClient::new(&config(&fake.base_url(), "wrong")).expect("client");
    let err = client
        .update_call(&CallSid::parse(CALL).expect("sid"), &CallUpdate::Hangup)
        .await
        .expect_err("401");
    let TwilioError::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((api.http_status, api.code), (401, Some(20003)));
    assert_eq!(api.message, "Authentication Error - invalid username");
    assert!(!err.retryable());
    assert!(fake.requests().is_empty(), "rejected before recording");
    assert!(
        !format!("{err} {err:?}").contains("wrong"),
        "no token in errors"
    );
}

#[tokio::test]
async fn scripted_errors_map_to_codes_and_retryability() {
    let (fake, client) = setup().await;
    let to = PhoneNumber::parse("+14155551234").expect("to");
    fake.fail_next(ScriptedFailure::fixture(
        400,
        "twilio-rest-error-21610.json",
    ));
    let err = client.send_sms(&to, "hi", None).await.expect_err("21610");
    assert!(matches!(&err, TwilioError::Api(a) if a.code == Some(21610) && a.http_status == 400));
    assert!(!err.retryable());

    fake.fail_next(ScriptedFailure::fixture(
        404,
        "twilio-rest-error-20404.json",
    ));
    let err = client
        .update_call(&CallSid::parse(CALL).expect("sid"), &CallUpdate::Hangup)
        .await
        .expect_err("20404");
    assert!(matches!(&err, TwilioError::Api(a) if a.code == Some(20404)));

    fake.fail_next(ScriptedFailure {
        status: 429,
        body: r#"{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"#.into(),
    });
    assert!(
        client
            .send_sms(&to, "hi", None)
            .await
            .expect_err("429")
            .retryable()
    );

    fake.fail_next(ScriptedFailure {
        status: 503,
        body: "<html>upstream down</html>".into(),
    });
    let err = client.send_sms(&to, "hi", None).await.expect_err("503");
    assert!(
        matches!(&err, TwilioError::Api(a) if a.code.is_none() && a.message.contains("upstream"))
    );
    assert!(err.retryable());

    fake.fail_next(ScriptedFailure {
        status: 201,
        body: "{\"sid\": 7}".into(),
    });
    let err = client
        .send_sms(&to, "hi", None)
        .await
        .expect_err("bad body");
    assert!(matches!(err, TwilioError::BadResponse(_)));
    assert!(!err.retryable(), "the SMS may have been sent");
}

#[tokio::test]
async fn bad_arguments_are_refused_before_sending() {
    let (fake, client) = setup().await;
    let to = PhoneNumber::parse("+14155551234").expect("to");
    assert!(matches!(
        client.send_sms(&to, "  ", None).await,
        Err(TwilioError::Invalid(_))
    ));
    let long = "x".repeat(1601);
    assert!(matches!(
        client.send_sms(&to, &long, None).await,
        Err(TwilioError::Invalid(_))
    ));
    let huge = Response::new().say(Say::new("a".repeat(4000)));
    let call = CallSid::parse(CALL).expect("sid");
    assert!(
        client
            .update_call(&call, &CallUpdate::Twiml(huge))
            .await
            .is_err()
    );
    let events_without_url = CreateCall {
        to,
        answer: Answer::Twiml(Response::new().hangup()),
        status_callback: None,
        status_callback_events: vec![CallEvent::Completed],
        async_amd_callback: None,
        amd_waits_for_beep: false,
        timeout_s: None,
    };
    assert!(client.create_call(&events_without_url).await.is_err());
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn unreachable_server_is_a_retryable_transport_error() {
    let fake = FakeTwilioRest::start(ACCOUNT, TOKEN).await;
    let url = fake.base_url();
    drop(fake);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let client = RestClient::new(&config(&url, TOKEN)).expect("client");
    let err = client
        .update_call(&CallSid::parse(CALL).expect("sid"), &CallUpdate::Hangup)
        .await
        .expect_err("nobody listens");
    assert!(matches!(err, TwilioError::Transport(_)), "{err:?}");
    assert!(err.retryable());
}

#[test]
fn config_is_validated() {
    for bad in ["http://api.twilio.com", "ftp://127.0.0.1", "not a url"] {
        assert!(RestClient::new(&config(bad, TOKEN)).is_err(), "{bad}");
    }
    assert!(RestClient::new(&config("https://api.twilio.com", TOKEN)).is_ok());
    let mut zero = config("http://127.0.0.1:1", TOKEN);
    zero.timeout_ms = 0;
    assert!(RestClient::new(&zero).is_err());
}

#[test]
fn config_deserializes_with_defaults_and_hides_the_token() {
    let cfg: TwilioConfig = serde_json::from_value(serde_json::json!({
        "account_sid": ACCOUNT,
        "auth_token": "s3cr3t-token",
        "from_number": "+15005550006",
    }))
    .expect("config");
    assert_eq!(cfg.api_base_url, "https://api.twilio.com");
    assert_eq!(cfg.timeout_ms, 10_000);
    assert!(!format!("{cfg:?}").contains("s3cr3t"));
    let typo = serde_json::from_value::<TwilioConfig>(serde_json::json!({
        "account_sid": ACCOUNT, "auth_token": "t", "from_number": "+15005550006", "timeout": 5,
    }));
    assert!(typo.is_err(), "unknown keys are refused");
    let bad_sid = serde_json::from_value::<TwilioConfig>(serde_json::json!({
        "account_sid": "AC1", "auth_token": "t", "from_number": "+15005550006",
    }));
    assert!(bad_sid.is_err());
}

#[test]
fn api_error_display_leaves_out_the_message() {
    let err = otto_twilio::ApiError::from_response(
        400,
        fixtures::text("twilio-rest-error-21211.json").as_bytes(),
    );
    assert_eq!(err.code, Some(21211));
    assert!(err.message.contains("5551234567"));
    let shown = TwilioError::from(err).to_string();
    assert!(!shown.contains("5551234567"), "{shown}");
    assert!(shown.contains("21211"), "{shown}");
}

/// The client's futures are `Send`, so callers can spawn them (a call runner hands a hang-up
/// or transfer to a task). A regression here is a compile error.
#[test]
fn request_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let client = RestClient::new(&config("http://127.0.0.1:9", "token")).unwrap();
    let sid = CallSid::random();
    let to = PhoneNumber::parse("+15555550123").unwrap();
    assert_send(&client.update_call(&sid, &CallUpdate::Hangup));
    assert_send(&client.send_sms(&to, "hi", None));
    let create = CreateCall {
        to,
        answer: Answer::Url("https://example.invalid/twiml".into()),
        status_callback: None,
        status_callback_events: Vec::new(),
        async_amd_callback: None,
        amd_waits_for_beep: false,
        timeout_s: None,
    };
    assert_send(&client.create_call(&create));
}
