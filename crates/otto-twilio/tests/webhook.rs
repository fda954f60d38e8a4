//! Typed webhooks parsed from the `twilio-voice-incoming` and `twilio-status-callback-*`
//! fixtures, and rejected when malformed.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use otto_fakes::fixtures;
use otto_twilio::TwilioError;
use otto_twilio::webhook::{
    CallStatus, Direction, IncomingCall, Party, StatusCallback, parse_form,
};

fn form(name: &str) -> Vec<(String, String)> {
    parse_form(fixtures::text(name).trim_end().as_bytes()).expect("fixture form")
}

fn with(mut pairs: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    pairs.retain(|(k, _)| k != name);
    pairs.push((name.into(), value.into()));
    pairs
}

fn without(mut pairs: Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
    pairs.retain(|(k, _)| k != name);
    pairs
}

#[test]
fn incoming_call_fixture_parses() {
    let call = IncomingCall::from_form(&form("twilio-voice-incoming.form.txt"))
        .expect("valid")
        .call;
    assert_eq!(call.call_sid.as_str(), "CA00000000000000000000000000000002");
    assert_eq!(
        call.account_sid.as_str(),
        "AC00000000000000000000000000000001"
    );
    assert_eq!(call.from.phone().map(|p| p.as_str()), Some("+14155551234"));
    assert_eq!(call.to.phone().map(|p| p.as_str()), Some("+15005550006"));
    assert_eq!(call.status, CallStatus::Ringing);
    assert_eq!(call.direction, Direction::Inbound);
    assert_eq!(call.parent_call_sid, None);
    assert_eq!(call.caller_name, None);
    assert_eq!(call.from.masked(), "+1******1234");
}

#[test]
fn status_callback_fixture_parses() {
    let cb = StatusCallback::from_form(&form("twilio-status-callback-completed.form.txt"))
        .expect("valid");
    assert_eq!(cb.call.status, CallStatus::Completed);
    assert!(cb.call.status.is_terminal());
    assert_eq!(cb.call.direction, Direction::OutboundApi);
    assert_eq!(cb.call_duration_s, Some(37));
    assert_eq!(cb.sequence_number, Some(3));
    assert_eq!(cb.sip_response_code, Some(200));
    let ts = cb.timestamp.expect("timestamp");
    assert_eq!(ts.to_rfc3339(), "2024-05-14T17:05:42+00:00");
    assert_eq!(cb.answered_by, None);
}

#[test]
fn unknown_status_and_direction_are_tolerated() {
    let pairs = with(
        form("twilio-voice-incoming.form.txt"),
        "CallStatus",
        "paused",
    );
    let pairs = with(pairs, "Direction", "trunking-originating");
    let call = IncomingCall::from_form(&pairs).expect("tolerated").call;
    assert_eq!(call.status, CallStatus::Unknown("paused".into()));
    assert!(!call.status.is_terminal());
    assert_eq!(call.direction.as_str(), "trunking-originating");
}

#[test]
fn withheld_client_and_sip_callers() {
    for withheld in [
        "anonymous",
        "Anonymous",
        "+266696687",
        "+7378742833",
        "+2562533",
        "",
    ] {
        let pairs = with(form("twilio-voice-incoming.form.txt"), "From", withheld);
        let call = IncomingCall::from_form(&pairs).expect(withheld).call;
        assert_eq!(call.from, Party::Withheld, "{withheld:?}");
    }
    assert_eq!(
        Party::parse("client:alice"),
        Ok(Party::Client("alice".into()))
    );
    assert_eq!(
        Party::parse("sip:alice@example.com"),
        Ok(Party::Sip("sip:alice@example.com".into()))
    );
    // E.164-shaped but not a number libphonenumber accepts: kept, not rejected.
    assert_eq!(
        Party::parse("+999123"),
        Ok(Party::OtherNumber("+999123".into()))
    );
    for bad in [
        "4155551234",
        "client:",
        "hello",
        "+1415555\n1234",
        "+1234567890123456789",
    ] {
        assert!(Party::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn malformed_fields_are_named_in_the_error() {
    let base = form("twilio-voice-incoming.form.txt");
    let cases = [
        (with(base.clone(), "CallSid", "CA123"), "CallSid"),
        (without(base.clone(), "CallSid"), "CallSid"),
        (
            with(
                base.clone(),
                "AccountSid",
                "CA00000000000000000000000000000002",
            ),
            "AccountSid",
        ),
        (without(base.clone(), "To"), "To"),
        (with(base.clone(), "From", "not a number"), "From"),
        (without(base.clone(), "CallStatus"), "CallStatus"),
        (with(base.clone(), "ParentCallSid", "xyz"), "ParentCallSid"),
    ];
    for (pairs, field) in cases {
        match IncomingCall::from_form(&pairs) {
            Err(TwilioError::Webhook(msg)) => assert!(msg.starts_with(field), "{msg}"),
            other => panic!("{field}: expected a webhook error, got {other:?}"),
        }
    }
    let status = form("twilio-status-callback-completed.form.txt");
    for (name, value) in [
        ("CallDuration", "37s"),
        ("SequenceNumber", "-1"),
        ("SipResponseCode", "99999"),
        ("Timestamp", "yesterday"),
    ] {
        let err = StatusCallback::from_form(&with(status.clone(), name, value))
            .expect_err(name)
            .to_string();
        assert!(err.contains(name), "{err}");
        assert!(!err.contains(value), "error must not echo the value: {err}");
    }
}

#[test]
fn oversized_bodies_are_refused() {
    let big = vec![b'a'; otto_twilio::webhook::MAX_FORM_BYTES + 1];
    assert!(matches!(parse_form(&big), Err(TwilioError::Webhook(_))));
}

#[test]
fn garbage_forms_never_panic() {
    for body in [
        &b""[..],
        b"&&&",
        b"%zz=%",
        b"CallSid",
        b"\xff\xfe=\x00",
        b"From=%2",
    ] {
        let pairs = parse_form(body).expect("small body decodes");
        assert!(IncomingCall::from_form(&pairs).is_err());
        assert!(StatusCallback::from_form(&pairs).is_err());
    }
}

mod never_panics {
    use otto_twilio::twiml::Response;
    use otto_twilio::webhook::{IncomingCall, StatusCallback, parse_form};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_form_bodies(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(pairs) = parse_form(&bytes) {
                let _ = IncomingCall::from_form(&pairs);
                let _ = StatusCallback::from_form(&pairs);
            }
        }

        #[test]
        fn arbitrary_field_values(value in ".{0,80}", field in 0usize..8) {
            let names = ["CallSid", "AccountSid", "From", "To", "CallStatus", "Direction", "Timestamp", "SequenceNumber"];
            let mut pairs = super::form("twilio-status-callback-completed.form.txt");
            pairs.retain(|(k, _)| k != names[field]);
            pairs.push((names[field].to_string(), value));
            let _ = StatusCallback::from_form(&pairs);
        }

        #[test]
        fn arbitrary_twiml(text in "(<|>|/|=|\"|&|;|Response|Say|Dial|Number|Connect|Stream|url|Parameter| |x|#|\\?)*") {
            let _ = Response::parse(&text);
        }
    }
}
