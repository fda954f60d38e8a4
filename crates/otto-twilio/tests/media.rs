//! Media Streams messages: every `twilio-media-*` fixture parses, re-serialises to the same
//! JSON, and malformed input is rejected without panicking.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use otto_fakes::fixtures;
use otto_twilio::media::{FromTwilio, MAX_MESSAGE_BYTES, ToTwilio, Track};
use otto_twilio::{StreamSid, TwilioError};
use proptest::prelude::*;

const INBOUND: [&str; 6] = [
    "twilio-media-connected.json",
    "twilio-media-start.json",
    "twilio-media-media.json",
    "twilio-media-dtmf.json",
    "twilio-media-mark.json",
    "twilio-media-stop.json",
];
const OUTBOUND: [&str; 3] = [
    "twilio-media-outbound-media.json",
    "twilio-media-outbound-mark.json",
    "twilio-media-outbound-clear.json",
];

fn reparse_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("our output is JSON")
}

#[test]
fn every_inbound_fixture_round_trips() {
    for name in INBOUND {
        let text = fixtures::text(name);
        let msg = FromTwilio::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!matches!(msg, FromTwilio::Unknown { .. }), "{name}");
        let written = msg.to_json().expect("known events are writable");
        assert_eq!(reparse_json(&written), fixtures::json(name), "{name}");
        assert_eq!(FromTwilio::parse(&written).expect("reparse"), msg, "{name}");
    }
}

#[test]
fn every_outbound_fixture_round_trips() {
    for name in OUTBOUND {
        let text = fixtures::text(name);
        let msg = ToTwilio::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(reparse_json(&msg.to_json()), fixtures::json(name), "{name}");
    }
}

#[test]
fn fixture_fields_are_typed() {
    let start = FromTwilio::parse(&fixtures::text("twilio-media-start.json")).expect("start");
    let FromTwilio::Start {
        sequence_number,
        stream_sid,
        start,
    } = start
    else {
        panic!("not a start: {start:?}");
    };
    assert_eq!(sequence_number, 1);
    assert_eq!(stream_sid.as_str(), "MZ00000000000000000000000000000003");
    assert_eq!(
        start.call_sid.as_str(),
        "CA00000000000000000000000000000002"
    );
    assert_eq!(start.tracks, [Track::Inbound]);
    assert_eq!(
        start.custom_parameters.get("tenant").map(String::as_str),
        Some("acme")
    );
    assert_eq!(
        start.custom_parameters.get("caller").map(String::as_str),
        Some("+14155551234")
    );
    assert_eq!(start.media_format.sample_rate_hz, 8000);
    assert_eq!(start.media_format.channels, 1);

    let media = FromTwilio::parse(&fixtures::text("twilio-media-media.json")).expect("media");
    let FromTwilio::Media {
        sequence_number,
        media,
        ..
    } = media
    else {
        panic!("not media: {media:?}");
    };
    assert_eq!(
        (sequence_number, media.chunk, media.timestamp_ms),
        (2, 1, 5)
    );
    assert_eq!(media.payload.len(), 160, "20 ms of μ-law");
    assert_eq!(media.payload[0], 0xFF, "the tone starts at zero");

    let dtmf = FromTwilio::parse(&fixtures::text("twilio-media-dtmf.json")).expect("dtmf");
    assert!(matches!(
        dtmf,
        FromTwilio::Dtmf {
            digit: '1',
            sequence_number: 5,
            ..
        }
    ));
    let mark = FromTwilio::parse(&fixtures::text("twilio-media-mark.json")).expect("mark");
    assert!(matches!(mark, FromTwilio::Mark { ref name, .. } if name == "utt-7-end"));
}

#[test]
fn outbound_media_encodes_silence_as_the_doc_says() {
    let sid = StreamSid::parse("MZ00000000000000000000000000000003").expect("sid");
    let msg = ToTwilio::Media {
        stream_sid: sid,
        payload: vec![0xFF; 160],
    };
    let json = reparse_json(&msg.to_json());
    let payload = json["media"]["payload"].as_str().expect("payload");
    assert_eq!(payload.len(), 216);
    assert_eq!(payload, format!("{}w==", "/".repeat(213)));
    assert!(
        json["media"].get("track").is_none(),
        "outbound media has no track"
    );
    assert!(json.get("sequenceNumber").is_none());
}

#[test]
fn unknown_events_are_a_distinct_variant() {
    let msg = FromTwilio::parse(r#"{"event":"transcription","streamSid":"MZ1","media":42}"#)
        .expect("tolerated");
    assert_eq!(
        msg,
        FromTwilio::Unknown {
            event: "transcription".into()
        }
    );
    assert!(msg.to_json().is_err());
    // Outbound unknowns are Otto bugs, reported as errors.
    assert!(
        ToTwilio::parse(r#"{"event":"start","streamSid":"MZ00000000000000000000000000000003"}"#)
            .is_err()
    );
}

#[test]
fn malformed_messages_are_rejected_with_the_field() {
    let media = fixtures::text("twilio-media-media.json");
    let cases = [
        (media.replace("\"2\"", "2"), "sequenceNumber"),
        (media.replace("\"chunk\": \"1\"", "\"chunk\": \"one\""), "media.chunk"),
        (media.replace("\"timestamp\": \"5\"", "\"timestamp\": \"-5\""), "media.timestamp"),
        (media.replace("\"payload\": \"/", "\"payload\": \"!"), "media.payload"),
        (media.replace("\"inbound\"", "\"sideways\""), "media.track"),
        (media.replace("MZ00000000000000000000000000000003", "MZ3"), "streamSid"),
        (
            fixtures::text("twilio-media-dtmf.json").replace("\"1\"", "\"12\""),
            "dtmf.digit",
        ),
        (
            fixtures::text("twilio-media-start.json")
                .replace("\"callSid\": \"CA00000000000000000000000000000002\"", "\"callSid\": \"x\""),
            "start.callSid",
        ),
        (r#"{"event":"media","sequenceNumber":"3","streamSid":"MZ00000000000000000000000000000003"}"#.into(), "media"),
    ];
    for (text, field) in cases {
        match FromTwilio::parse(&text) {
            Err(TwilioError::Media(msg)) => assert!(msg.contains(field), "{field}: {msg}"),
            other => panic!("{field}: expected an error, got {other:?}"),
        }
    }
    for text in [
        "",
        "null",
        "[]",
        "{}",
        r#"{"event":5}"#,
        "{\"event\":\"media\"",
    ] {
        assert!(FromTwilio::parse(text).is_err(), "{text:?}");
        assert!(ToTwilio::parse(text).is_err(), "{text:?}");
    }
}

#[test]
fn oversized_messages_are_refused_before_parsing() {
    let big = format!(
        r#"{{"event":"media","pad":"{}"}}"#,
        "a".repeat(MAX_MESSAGE_BYTES)
    );
    assert!(matches!(FromTwilio::parse(&big), Err(TwilioError::Media(m)) if m.contains("exceeds")));
    assert!(ToTwilio::parse(&big).is_err());
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = FromTwilio::parse(&text);
        let _ = ToTwilio::parse(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = FromTwilio::parse(&text);
        let _ = ToTwilio::parse(&text);
    }

    #[test]
    fn mutated_fixtures_never_panic(index in 0usize..6, at in 0usize..600, byte in any::<u8>()) {
        let mut bytes = fixtures::bytes(INBOUND[index]);
        if !bytes.is_empty() {
            let i = at % bytes.len();
            bytes[i] = byte;
        }
        let _ = FromTwilio::parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn outbound_media_round_trips(payload in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let sid = StreamSid::parse("MZ00000000000000000000000000000003").expect("sid");
        let msg = ToTwilio::Media { stream_sid: sid, payload };
        prop_assert_eq!(ToTwilio::parse(&msg.to_json()).expect("round trip"), msg);
    }
}
