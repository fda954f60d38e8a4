//! Deepgram's JSON messages (`shared/protocols/deepgram.md` a.3, a.4, b.2, b.3, c.3) and their
//! mapping to Otto's speech events.
//!
//! Parsing is lenient where the vendor's docs and SDKs disagree: optional `speech_final` /
//! `from_finalize`, both `Warning` shapes, both REST error shapes, unknown `type`s and fields.
//! Times in seconds (f64) become whole milliseconds; a negative or non-finite time makes the
//! message invalid rather than producing a wrong event.

use otto_core::speech::SttEvent;
use serde::Deserialize;

/// Client text messages of the live STT socket (`deepgram.md` a.3).
pub(crate) const KEEP_ALIVE: &str = r#"{"type":"KeepAlive"}"#;
/// Finalise the audio held now; the socket stays open.
pub(crate) const FINALIZE: &str = r#"{"type":"Finalize"}"#;
/// End of audio; the server sends its last finals and Metadata, then closes 1000.
pub(crate) const CLOSE_STREAM: &str = r#"{"type":"CloseStream"}"#;
/// TTS: synthesise the buffered text (`deepgram.md` b.2).
pub(crate) const FLUSH: &str = r#"{"type":"Flush"}"#;
/// TTS: drop buffered text and audio not yet sent.
pub(crate) const CLEAR: &str = r#"{"type":"Clear"}"#;
/// TTS: flush and close gracefully.
pub(crate) const CLOSE: &str = r#"{"type":"Close"}"#;

/// A TTS `Speak` message carrying `text`.
pub(crate) fn speak_message(text: &str) -> String {
    serde_json::json!({"type": "Speak", "text": text}).to_string()
}

/// What one live STT text frame means to Otto.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ListenMessage {
    /// An event for the call engine; times are relative to this connection's first audio byte.
    Event(SttEvent),
    /// Nothing for the engine (empty interim during silence, Metadata, unknown type).
    Ignore(&'static str),
    /// The server reported an `Error` frame (the stream may continue).
    ServerError(String),
}

#[derive(Deserialize)]
struct Typed {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Results {
    #[serde(default)]
    is_final: bool,
    #[serde(default)]
    speech_final: bool,
    #[serde(default)]
    from_finalize: bool,
    start: f64,
    duration: f64,
    channel: Channel,
}

#[derive(Deserialize)]
struct Channel {
    #[serde(default)]
    alternatives: Vec<Alternative>,
}

#[derive(Deserialize)]
struct Alternative {
    #[serde(default)]
    transcript: String,
}

#[derive(Deserialize)]
struct SpeechStarted {
    timestamp: f64,
}

#[derive(Deserialize)]
struct UtteranceEnd {
    last_word_end: f64,
}

#[derive(Deserialize)]
struct ListenError {
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// Where and what kind of JSON problem `e` is, without quoting any value (a value may be a
/// caller's words).
fn json_problem(e: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {} column {}",
        e.classify(),
        e.line(),
        e.column()
    )
}

/// Seconds to whole ms; `None` for negative, non-finite or absurd (> 1 year) values.
fn secs_to_ms(s: f64) -> Option<u64> {
    (s.is_finite() && (0.0..3.2e7).contains(&s)).then(|| (s * 1000.0).round() as u64)
}

/// Parses one live STT text frame.
///
/// `Results` with `is_final: false` become [`SttEvent::Interim`] unless the transcript is empty
/// (Deepgram sends empty interims all through silence; forwarding them would look like speech
/// activity to the call engine). Finals are forwarded even when empty: an empty
/// `speech_final` still ends the caller's turn.
///
/// Errors: a description of what is malformed (not JSON, no `type`, missing or bad fields).
pub(crate) fn parse_listen(text: &str) -> Result<ListenMessage, String> {
    let typed: Typed = serde_json::from_str(text)
        .map_err(|e| format!("not a typed JSON message: {}", json_problem(&e)))?;
    let fields =
        |e: serde_json::Error| format!("malformed {} message: {}", typed.kind, json_problem(&e));
    let time = |s: f64, field: &str| {
        secs_to_ms(s).ok_or_else(|| format!("{} has an invalid {field}: {s}", typed.kind))
    };
    match typed.kind.as_str() {
        "Results" => {
            let r: Results = serde_json::from_str(text).map_err(fields)?;
            let text = r
                .channel
                .alternatives
                .into_iter()
                .next()
                .map(|a| a.transcript)
                .unwrap_or_default();
            if !r.is_final {
                if text.trim().is_empty() {
                    return Ok(ListenMessage::Ignore("empty interim"));
                }
                return Ok(ListenMessage::Event(SttEvent::Interim { text }));
            }
            Ok(ListenMessage::Event(SttEvent::Final {
                text,
                speech_final: r.speech_final,
                from_finalize: r.from_finalize,
                start_ms: time(r.start, "start")?,
                duration_ms: time(r.duration, "duration")?,
            }))
        }
        "SpeechStarted" => {
            let m: SpeechStarted = serde_json::from_str(text).map_err(fields)?;
            Ok(ListenMessage::Event(SttEvent::SpeechStarted {
                at_ms: time(m.timestamp, "timestamp")?,
            }))
        }
        "UtteranceEnd" => {
            let m: UtteranceEnd = serde_json::from_str(text).map_err(fields)?;
            Ok(ListenMessage::Event(SttEvent::UtteranceEnd {
                last_word_end_ms: time(m.last_word_end, "last_word_end")?,
            }))
        }
        "Metadata" => Ok(ListenMessage::Ignore("metadata")),
        "Error" => {
            let m: ListenError = serde_json::from_str(text).map_err(fields)?;
            Ok(ListenMessage::ServerError(format!(
                "{}: {}",
                m.variant.as_deref().unwrap_or("Error"),
                m.description.as_deref().unwrap_or("no description")
            )))
        }
        _ => Ok(ListenMessage::Ignore("unknown message type")),
    }
}

/// Shifts an event's audio times by `offset_ms` (the audio sent before this connection).
pub(crate) fn offset_event(event: SttEvent, offset_ms: u64) -> SttEvent {
    match event {
        SttEvent::SpeechStarted { at_ms } => SttEvent::SpeechStarted {
            at_ms: at_ms.saturating_add(offset_ms),
        },
        SttEvent::Final {
            text,
            speech_final,
            from_finalize,
            start_ms,
            duration_ms,
        } => SttEvent::Final {
            text,
            speech_final,
            from_finalize,
            start_ms: start_ms.saturating_add(offset_ms),
            duration_ms,
        },
        SttEvent::UtteranceEnd { last_word_end_ms } => SttEvent::UtteranceEnd {
            last_word_end_ms: last_word_end_ms.saturating_add(offset_ms),
        },
        interim @ SttEvent::Interim { .. } => interim,
    }
}

/// What one streaming TTS text frame means to Otto (`deepgram.md` b.3).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SpeakMessage {
    /// Sent after the handshake.
    Metadata {
        /// Deepgram's id of this session (for support requests).
        request_id: Option<String>,
    },
    /// All audio of the oldest outstanding `Flush` has been sent.
    Flushed,
    /// A `Clear` took effect.
    Cleared,
    /// A non-fatal warning, in either documented shape.
    Warning {
        /// `warn_code` or `code` (e.g. `EXCESSIVE_FLUSH`).
        code: String,
        /// `warn_msg` or `description`.
        message: String,
    },
    /// An `Error` frame (unverified shape: `err_code` / `err_msg`).
    Error(String),
    /// Anything else.
    Unknown,
}

#[derive(Deserialize)]
struct SpeakFields {
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default, alias = "code")]
    warn_code: Option<String>,
    #[serde(default, alias = "description")]
    warn_msg: Option<String>,
    #[serde(default)]
    err_code: Option<String>,
    #[serde(default)]
    err_msg: Option<String>,
}

/// Parses one streaming TTS text frame.
///
/// Errors: a description when the frame is not a JSON object with a string `type`.
pub(crate) fn parse_speak(text: &str) -> Result<SpeakMessage, String> {
    let typed: Typed = serde_json::from_str(text)
        .map_err(|e| format!("not a typed JSON message: {}", json_problem(&e)))?;
    let f: SpeakFields = serde_json::from_str(text)
        .map_err(|e| format!("malformed {} message: {}", typed.kind, json_problem(&e)))?;
    Ok(match typed.kind.as_str() {
        "Metadata" => SpeakMessage::Metadata {
            request_id: f.request_id,
        },
        "Flushed" => SpeakMessage::Flushed,
        "Cleared" => SpeakMessage::Cleared,
        "Warning" => SpeakMessage::Warning {
            code: f.warn_code.unwrap_or_default(),
            message: f.warn_msg.unwrap_or_default(),
        },
        "Error" => SpeakMessage::Error(format!(
            "{}: {}",
            f.err_code.as_deref().unwrap_or("Error"),
            f.err_msg.as_deref().unwrap_or("no message")
        )),
        _ => SpeakMessage::Unknown,
    })
}

/// A Deepgram HTTP error body in either shape (`deepgram.md` a.8, c.3).
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default, alias = "category")]
    err_code: Option<String>,
    #[serde(default, alias = "message")]
    err_msg: Option<String>,
}

/// A short description of an HTTP error answer: `"<code>: <message>"` from either JSON shape,
/// else the start of the body (at most 200 bytes, cut at a char boundary).
pub(crate) fn describe_error_body(body: &[u8]) -> String {
    if let Ok(ErrorBody {
        err_code,
        err_msg: Some(msg),
    }) = serde_json::from_slice::<ErrorBody>(body)
    {
        return match err_code {
            Some(code) => format!("{code}: {msg}"),
            None => msg,
        };
    }
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use otto_fakes::fixtures;

    fn listen(name: &str) -> ListenMessage {
        parse_listen(&fixtures::text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn every_listen_fixture_maps_to_its_event() {
        assert_eq!(
            listen("deepgram-listen-results-interim-empty.json"),
            ListenMessage::Ignore("empty interim")
        );
        assert_eq!(
            listen("deepgram-listen-results-interim.json"),
            ListenMessage::Event(SttEvent::Interim {
                text: "I need to book".into()
            })
        );
        assert_eq!(
            listen("deepgram-listen-results-final.json"),
            ListenMessage::Event(SttEvent::Final {
                text: "For next Tuesday at ten, if that works,".into(),
                speech_final: false,
                from_finalize: false,
                start_ms: 4420,
                duration_ms: 3000,
            })
        );
        assert_eq!(
            listen("deepgram-listen-results-final-speech-final.json"),
            ListenMessage::Event(SttEvent::Final {
                text: "I need to book an appointment.".into(),
                speech_final: true,
                from_finalize: false,
                start_ms: 2080,
                duration_ms: 2340,
            })
        );
        assert_eq!(
            listen("deepgram-listen-results-from-finalize.json"),
            ListenMessage::Event(SttEvent::Final {
                text: "please.".into(),
                speech_final: false,
                from_finalize: true,
                start_ms: 7420,
                duration_ms: 960,
            })
        );
        assert_eq!(
            listen("deepgram-listen-speech-started.json"),
            ListenMessage::Event(SttEvent::SpeechStarted { at_ms: 2080 })
        );
        assert_eq!(
            listen("deepgram-listen-utterance-end.json"),
            ListenMessage::Event(SttEvent::UtteranceEnd {
                last_word_end_ms: 3860
            })
        );
        for name in [
            "deepgram-listen-metadata.json",
            "deepgram-listen-metadata-no-audio.json",
        ] {
            assert_eq!(listen(name), ListenMessage::Ignore("metadata"));
        }
        assert_eq!(
            listen("deepgram-listen-error-schema.json"),
            ListenMessage::ServerError("SchemaError: request schema is invalid".into())
        );
    }

    #[test]
    fn lenient_and_malformed_listen_messages() {
        // speech_final and from_finalize are optional.
        let m = parse_listen(
            r#"{"type":"Results","is_final":true,"start":1.0,"duration":0.5,"channel":{"alternatives":[{"transcript":"hi"}]}}"#,
        );
        assert_eq!(
            m,
            Ok(ListenMessage::Event(SttEvent::Final {
                text: "hi".into(),
                speech_final: false,
                from_finalize: false,
                start_ms: 1000,
                duration_ms: 500
            }))
        );
        assert_eq!(
            parse_listen(r#"{"type":"Configured","x":1}"#),
            Ok(ListenMessage::Ignore("unknown message type"))
        );
        for bad in [
            "not json",
            "[]",
            r#"{"no_type":1}"#,
            r#"{"type":"Results","start":"x"}"#,
            r#"{"type":"Results","is_final":true,"start":-1.0,"duration":1.0,"channel":{}}"#,
            r#"{"type":"SpeechStarted","timestamp":1e300}"#,
            r#"{"type":"UtteranceEnd"}"#,
        ] {
            assert!(parse_listen(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn problems_never_quote_values() {
        let secret = r#"{"type":"Results","is_final":true,"start":0,"duration":1,"channel":"my card is 4111"}"#;
        let problem = parse_listen(secret).expect_err("channel must be an object");
        assert!(!problem.contains("4111"), "{problem}");
        assert!(
            problem.starts_with("malformed Results message: Data error"),
            "{problem}"
        );
    }

    #[test]
    fn offsets_shift_audio_times_only() {
        let f = SttEvent::Final {
            text: "a".into(),
            speech_final: true,
            from_finalize: false,
            start_ms: 100,
            duration_ms: 50,
        };
        assert_eq!(
            offset_event(f, 1000),
            SttEvent::Final {
                text: "a".into(),
                speech_final: true,
                from_finalize: false,
                start_ms: 1100,
                duration_ms: 50
            }
        );
        assert_eq!(
            offset_event(SttEvent::SpeechStarted { at_ms: 5 }, 10),
            SttEvent::SpeechStarted { at_ms: 15 }
        );
    }

    #[test]
    fn every_speak_fixture_parses_including_both_warning_shapes() {
        let p = |name: &str| parse_speak(&fixtures::text(name)).expect(name);
        assert_eq!(
            p("deepgram-speak-metadata.json"),
            SpeakMessage::Metadata {
                request_id: Some("3f1c2b9e-5d4a-4e8b-9c71-0a2b3c4d5e6f".into())
            }
        );
        assert_eq!(p("deepgram-speak-flushed.json"), SpeakMessage::Flushed);
        assert_eq!(p("deepgram-speak-cleared.json"), SpeakMessage::Cleared);
        let warning = SpeakMessage::Warning {
            code: "EXCESSIVE_FLUSH".into(),
            message: "Rate limit exceeded for flushes. Please try again later.".into(),
        };
        assert_eq!(p("deepgram-speak-warning.json"), warning);
        assert_eq!(p("deepgram-speak-warning-docs-shape.json"), warning);
        assert_eq!(
            parse_speak(r#"{"type":"Later"}"#),
            Ok(SpeakMessage::Unknown)
        );
        assert!(parse_speak("{").is_err());
        assert!(parse_speak(r#"{"type":"Warning","warn_code":5}"#).is_err());
    }

    #[test]
    fn client_messages_equal_the_fixtures() {
        let same = |msg: &str, name: &str| {
            let sent: serde_json::Value = serde_json::from_str(msg).expect("valid JSON");
            assert_eq!(sent, fixtures::json(name), "{name}");
        };
        same(KEEP_ALIVE, "deepgram-listen-keepalive.json");
        same(FINALIZE, "deepgram-listen-finalize.json");
        same(CLOSE_STREAM, "deepgram-listen-closestream.json");
        same(FLUSH, "deepgram-speak-flush.json");
        same(CLEAR, "deepgram-speak-clear.json");
        same(CLOSE, "deepgram-speak-close.json");
        same(
            &speak_message("Thanks for calling. How can I help you today?"),
            "deepgram-speak-speak.json",
        );
    }

    #[test]
    fn error_bodies_in_both_shapes() {
        let d = |name: &str| describe_error_body(&fixtures::bytes(name));
        assert_eq!(
            d("deepgram-handshake-401.json"),
            "INVALID_AUTH: Invalid credentials."
        );
        assert_eq!(
            d("deepgram-rest-error-400-category.json"),
            "INVALID_JSON: Invalid JSON submitted."
        );
        assert!(d("deepgram-rest-error-400.json").starts_with("Bad Request: Content-type"));
        assert_eq!(
            describe_error_body("<html>é".repeat(100).as_bytes()).len(),
            200
        );
    }
}
