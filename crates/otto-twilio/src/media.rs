//! Media Streams WebSocket messages (`shared/protocols/twilio.md` §d): [`FromTwilio`]
//! (connected, start, media, dtmf, mark, stop, §d.1) and [`ToTwilio`] (media, mark, clear,
//! §d.2), each one JSON object in one text frame.
//!
//! Parsing validates everything: the size ([`MAX_MESSAGE_BYTES`]), SIDs, the number-like
//! fields Twilio sends as strings (`sequenceNumber`, `chunk`, `timestamp`), DTMF digits, and
//! the base64 μ-law payload (decoded here; payloads are raw μ-law 8 kHz mono bytes, 160 bytes
//! per 20 ms). An unknown `event` from Twilio is [`FromTwilio::Unknown`], not an error, so a
//! new message type never drops a call. Writing produces exactly the fixture shapes
//! (`twilio-media-*.json`).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{AccountSid, CallSid, StreamSid, TwilioError};

/// Largest message accepted by the parsers, in bytes of JSON text. Twilio's inbound frames are
/// about 400 bytes; 64 KiB leaves room for outbound chunks of about 6 s of audio. Use it as the
/// WebSocket's maximum message size too.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Read buffer of one media WebSocket, bytes. Media messages are about 0.3 KiB (a 20 ms frame
/// in base64 JSON); tungstenite's default of 128 KiB is zero-filled before every read, which
/// at a few hundred calls cost more CPU than everything else together. Larger messages are
/// read in several reads.
pub const READ_BUFFER_BYTES: usize = 8 * 1024;

/// The only audio format of Media Streams: `audio/x-mulaw` (G.711 μ-law).
pub const MULAW_ENCODING: &str = "audio/x-mulaw";

/// Which side of the call a media frame carries (`media.track`, `start.tracks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Track {
    /// The caller's audio (`inbound`).
    Inbound,
    /// Audio played to the caller (`outbound`), only on `<Start>` forks with `both_tracks`.
    Outbound,
}

impl Track {
    fn parse(text: &str, field: &str) -> Result<Self, TwilioError> {
        match text {
            "inbound" => Ok(Self::Inbound),
            "outbound" => Ok(Self::Outbound),
            _ => Err(bad(field, "not inbound or outbound")),
        }
    }

    /// Twilio's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        }
    }
}

/// `start.mediaFormat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFormat {
    /// `encoding`, `audio/x-mulaw` in practice.
    pub encoding: String,
    /// `sampleRate`, Hz (8000).
    pub sample_rate_hz: u32,
    /// `channels` (1).
    pub channels: u16,
}

/// The body of a `start` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// `start.accountSid`.
    pub account_sid: AccountSid,
    /// `start.callSid`.
    pub call_sid: CallSid,
    /// `start.tracks`.
    pub tracks: Vec<Track>,
    /// `start.customParameters`: the `<Parameter>`s of the TwiML (`{}` when none).
    pub custom_parameters: BTreeMap<String, String>,
    /// `start.mediaFormat`.
    pub media_format: MediaFormat,
}

/// The body of a `media` message from Twilio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `media.track`.
    pub track: Track,
    /// `media.chunk`: per-track counter from 1.
    pub chunk: u64,
    /// `media.timestamp`: ms of media time since the stream started (not wall clock).
    pub timestamp_ms: u64,
    /// The decoded payload: raw μ-law bytes (normally 160 = 20 ms).
    pub payload: Vec<u8>,
}

/// A message Twilio sends on the Media Streams socket (§d.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromTwilio {
    /// First message: `protocol` (`Call`) and `version` (`1.0.0`).
    Connected {
        /// `protocol`.
        protocol: String,
        /// `version`.
        version: String,
    },
    /// The stream started (once).
    Start {
        /// `sequenceNumber` (1 for `start`).
        sequence_number: u64,
        /// `streamSid`: every message sent back must carry it.
        stream_sid: StreamSid,
        /// The `start` body.
        start: Start,
    },
    /// Caller audio.
    Media {
        /// `sequenceNumber`.
        sequence_number: u64,
        /// `streamSid`.
        stream_sid: StreamSid,
        /// The `media` body.
        media: Media,
    },
    /// A key press (`dtmf.digit`: `0`-`9`, `*`, `#`).
    Dtmf {
        /// `sequenceNumber`.
        sequence_number: u64,
        /// `streamSid`.
        stream_sid: StreamSid,
        /// `dtmf.track` (`inbound_track`).
        track: String,
        /// `dtmf.digit`.
        digit: char,
    },
    /// Echo of a mark we sent: playback reached it, or a `clear` discarded its audio.
    Mark {
        /// `sequenceNumber`.
        sequence_number: u64,
        /// `streamSid`.
        stream_sid: StreamSid,
        /// `mark.name`, as we sent it.
        name: String,
    },
    /// The stream ended; the socket closes next.
    Stop {
        /// `sequenceNumber`.
        sequence_number: u64,
        /// `streamSid`.
        stream_sid: StreamSid,
        /// `stop.accountSid`.
        account_sid: AccountSid,
        /// `stop.callSid`.
        call_sid: CallSid,
    },
    /// An `event` this code does not know (at most 64 characters of its name). Ignore it.
    Unknown {
        /// The `event` value.
        event: String,
    },
}

/// A message we send to Twilio on a `<Connect><Stream>` socket (§d.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToTwilio {
    /// Audio to play: raw μ-law 8 kHz mono bytes (no file header), any length.
    Media {
        /// The stream's SID from `start`.
        stream_sid: StreamSid,
        /// μ-law bytes (base64-encoded on the wire).
        payload: Vec<u8>,
    },
    /// Ask for an echo when playback reaches this point.
    Mark {
        /// The stream's SID.
        stream_sid: StreamSid,
        /// Name echoed back.
        name: String,
    },
    /// Discard all queued audio (barge-in); Twilio echoes every pending mark.
    Clear {
        /// The stream's SID.
        stream_sid: StreamSid,
    },
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sequence_number: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stream_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<WireStart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media: Option<WireMedia>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dtmf: Option<WireDtmf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mark: Option<WireMark>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stop: Option<WireStop>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStart {
    account_sid: String,
    stream_sid: String,
    call_sid: String,
    tracks: Vec<String>,
    #[serde(default)]
    custom_parameters: BTreeMap<String, String>,
    media_format: WireFormat,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireFormat {
    encoding: String,
    sample_rate: u32,
    channels: u16,
}

#[derive(Debug, Serialize, Deserialize)]
struct WireMedia {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    track: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chunk: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timestamp: Option<Value>,
    payload: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct WireDtmf {
    track: String,
    digit: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct WireMark {
    name: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStop {
    account_sid: String,
    call_sid: String,
}

#[derive(Deserialize)]
struct EventOnly {
    event: String,
}

fn bad(field: &str, why: &str) -> TwilioError {
    TwilioError::Media(format!("{field}: {why}"))
}

fn need<T>(value: Option<T>, field: &str) -> Result<T, TwilioError> {
    value.ok_or_else(|| bad(field, "missing"))
}

/// Parses a number Twilio sends as a decimal string (a JSON number is refused: the protocol
/// always quotes these).
fn number(value: Option<Value>, field: &str) -> Result<u64, TwilioError> {
    let Value::String(text) = need(value, field)? else {
        return Err(bad(field, "not a decimal string"));
    };
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(field, "not a decimal string"));
    }
    text.parse().map_err(|_| bad(field, "out of range"))
}

fn stream_sid(text: Option<String>) -> Result<StreamSid, TwilioError> {
    StreamSid::parse(&need(text, "streamSid")?).map_err(|e| bad("streamSid", &e.to_string()))
}

fn decode_payload(text: &str) -> Result<Vec<u8>, TwilioError> {
    BASE64
        .decode(text)
        .map_err(|_| bad("media.payload", "not standard base64"))
}

fn read_wire(text: &str) -> Result<Result<Wire, String>, TwilioError> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(TwilioError::Media(format!(
            "message of {} bytes exceeds {MAX_MESSAGE_BYTES}",
            text.len()
        )));
    }
    Ok(serde_json::from_str::<Wire>(text).map_err(|e| e.to_string()))
}

impl FromTwilio {
    /// Parses one text frame from Twilio.
    ///
    /// # Errors
    /// [`TwilioError::Media`] when the text is too large, not a JSON object with a string
    /// `event`, or a known event lacks a field or has a malformed one (bad SID, number string,
    /// digit, track or base64).
    pub fn parse(text: &str) -> Result<Self, TwilioError> {
        let wire = match read_wire(text)? {
            Ok(w) => w,
            Err(why) => {
                // A future event may carry fields whose shapes clash with ours.
                return match serde_json::from_str::<EventOnly>(text) {
                    Ok(e) if !is_known(&e.event) => Ok(Self::Unknown {
                        event: e.event.chars().take(64).collect(),
                    }),
                    _ => Err(TwilioError::Media(why)),
                };
            }
        };
        Ok(match wire.event.as_str() {
            "connected" => Self::Connected {
                protocol: wire.protocol.unwrap_or_default(),
                version: wire.version.unwrap_or_default(),
            },
            "start" => {
                let s = need(wire.start, "start")?;
                let tracks = s
                    .tracks
                    .iter()
                    .map(|t| Track::parse(t, "start.tracks"))
                    .collect::<Result<_, _>>()?;
                let start_sid = StreamSid::parse(&s.stream_sid)
                    .map_err(|e| bad("start.streamSid", &e.to_string()))?;
                let stream_sid = match wire.stream_sid {
                    Some(sid) => {
                        StreamSid::parse(&sid).map_err(|e| bad("streamSid", &e.to_string()))?
                    }
                    None => start_sid.clone(),
                };
                if stream_sid != start_sid {
                    return Err(bad("streamSid", "differs from start.streamSid"));
                }
                Self::Start {
                    sequence_number: number(wire.sequence_number, "sequenceNumber")?,
                    stream_sid,
                    start: Start {
                        account_sid: AccountSid::parse(&s.account_sid)
                            .map_err(|e| bad("start.accountSid", &e.to_string()))?,
                        call_sid: CallSid::parse(&s.call_sid)
                            .map_err(|e| bad("start.callSid", &e.to_string()))?,
                        tracks,
                        custom_parameters: s.custom_parameters,
                        media_format: MediaFormat {
                            encoding: s.media_format.encoding,
                            sample_rate_hz: s.media_format.sample_rate,
                            channels: s.media_format.channels,
                        },
                    },
                }
            }
            "media" => {
                let m = need(wire.media, "media")?;
                Self::Media {
                    sequence_number: number(wire.sequence_number, "sequenceNumber")?,
                    stream_sid: stream_sid(wire.stream_sid)?,
                    media: Media {
                        track: Track::parse(&need(m.track, "media.track")?, "media.track")?,
                        chunk: number(m.chunk, "media.chunk")?,
                        timestamp_ms: number(m.timestamp, "media.timestamp")?,
                        payload: decode_payload(&m.payload)?,
                    },
                }
            }
            "dtmf" => {
                let d = need(wire.dtmf, "dtmf")?;
                let mut chars = d.digit.chars();
                let digit = match (chars.next(), chars.next()) {
                    (Some(c), None) if c.is_ascii_digit() || c == '*' || c == '#' => c,
                    _ => return Err(bad("dtmf.digit", "not one of 0-9 * #")),
                };
                Self::Dtmf {
                    sequence_number: number(wire.sequence_number, "sequenceNumber")?,
                    stream_sid: stream_sid(wire.stream_sid)?,
                    track: d.track,
                    digit,
                }
            }
            "mark" => Self::Mark {
                sequence_number: number(wire.sequence_number, "sequenceNumber")?,
                stream_sid: stream_sid(wire.stream_sid)?,
                name: need(wire.mark, "mark")?.name,
            },
            "stop" => {
                let s = need(wire.stop, "stop")?;
                Self::Stop {
                    sequence_number: number(wire.sequence_number, "sequenceNumber")?,
                    stream_sid: stream_sid(wire.stream_sid)?,
                    account_sid: AccountSid::parse(&s.account_sid)
                        .map_err(|e| bad("stop.accountSid", &e.to_string()))?,
                    call_sid: CallSid::parse(&s.call_sid)
                        .map_err(|e| bad("stop.callSid", &e.to_string()))?,
                }
            }
            other => Self::Unknown {
                event: other.chars().take(64).collect(),
            },
        })
    }

    /// The message as Twilio writes it (numbers as strings, payload in base64).
    ///
    /// # Errors
    /// [`TwilioError::Media`] for [`FromTwilio::Unknown`], which has no wire form.
    pub fn to_json(&self) -> Result<String, TwilioError> {
        let seq = |n: &u64| Some(Value::String(n.to_string()));
        let wire = match self {
            Self::Connected { protocol, version } => Wire {
                event: "connected".into(),
                protocol: Some(protocol.clone()),
                version: Some(version.clone()),
                ..Wire::default()
            },
            Self::Start {
                sequence_number,
                stream_sid,
                start,
            } => Wire {
                event: "start".into(),
                sequence_number: seq(sequence_number),
                stream_sid: Some(stream_sid.to_string()),
                start: Some(WireStart {
                    account_sid: start.account_sid.to_string(),
                    stream_sid: stream_sid.to_string(),
                    call_sid: start.call_sid.to_string(),
                    tracks: start.tracks.iter().map(|t| t.as_str().into()).collect(),
                    custom_parameters: start.custom_parameters.clone(),
                    media_format: WireFormat {
                        encoding: start.media_format.encoding.clone(),
                        sample_rate: start.media_format.sample_rate_hz,
                        channels: start.media_format.channels,
                    },
                }),
                ..Wire::default()
            },
            Self::Media {
                sequence_number,
                stream_sid,
                media,
            } => Wire {
                event: "media".into(),
                sequence_number: seq(sequence_number),
                stream_sid: Some(stream_sid.to_string()),
                media: Some(WireMedia {
                    track: Some(media.track.as_str().into()),
                    chunk: Some(Value::String(media.chunk.to_string())),
                    timestamp: Some(Value::String(media.timestamp_ms.to_string())),
                    payload: BASE64.encode(&media.payload),
                }),
                ..Wire::default()
            },
            Self::Dtmf {
                sequence_number,
                stream_sid,
                track,
                digit,
            } => Wire {
                event: "dtmf".into(),
                sequence_number: seq(sequence_number),
                stream_sid: Some(stream_sid.to_string()),
                dtmf: Some(WireDtmf {
                    track: track.clone(),
                    digit: digit.to_string(),
                }),
                ..Wire::default()
            },
            Self::Mark {
                sequence_number,
                stream_sid,
                name,
            } => Wire {
                event: "mark".into(),
                sequence_number: seq(sequence_number),
                stream_sid: Some(stream_sid.to_string()),
                mark: Some(WireMark { name: name.clone() }),
                ..Wire::default()
            },
            Self::Stop {
                sequence_number,
                stream_sid,
                account_sid,
                call_sid,
            } => Wire {
                event: "stop".into(),
                sequence_number: seq(sequence_number),
                stream_sid: Some(stream_sid.to_string()),
                stop: Some(WireStop {
                    account_sid: account_sid.to_string(),
                    call_sid: call_sid.to_string(),
                }),
                ..Wire::default()
            },
            Self::Unknown { event } => {
                return Err(TwilioError::Media(format!(
                    "unknown event {event:?} cannot be written"
                )));
            }
        };
        Ok(write_wire(&wire))
    }
}

fn is_known(event: &str) -> bool {
    matches!(
        event,
        "connected" | "start" | "media" | "dtmf" | "mark" | "stop" | "clear"
    )
}

fn write_wire(wire: &Wire) -> String {
    serde_json::to_string(wire).expect("a struct of strings and maps always serialises to JSON")
}

impl ToTwilio {
    /// The stream this message is for.
    pub fn stream_sid(&self) -> &StreamSid {
        match self {
            Self::Media { stream_sid, .. }
            | Self::Mark { stream_sid, .. }
            | Self::Clear { stream_sid } => stream_sid,
        }
    }

    /// The JSON text frame to send (fixtures `twilio-media-outbound-*.json`).
    pub fn to_json(&self) -> String {
        let wire = match self {
            Self::Media {
                stream_sid,
                payload,
            } => Wire {
                event: "media".into(),
                stream_sid: Some(stream_sid.to_string()),
                media: Some(WireMedia {
                    track: None,
                    chunk: None,
                    timestamp: None,
                    payload: BASE64.encode(payload),
                }),
                ..Wire::default()
            },
            Self::Mark { stream_sid, name } => Wire {
                event: "mark".into(),
                stream_sid: Some(stream_sid.to_string()),
                mark: Some(WireMark { name: name.clone() }),
                ..Wire::default()
            },
            Self::Clear { stream_sid } => Wire {
                event: "clear".into(),
                stream_sid: Some(stream_sid.to_string()),
                ..Wire::default()
            },
        };
        write_wire(&wire)
    }

    /// Parses a frame sent to Twilio (what the simulator, acting as Twilio, receives).
    ///
    /// # Errors
    /// [`TwilioError::Media`] when the text is too large, not JSON, has an event other than
    /// `media`/`mark`/`clear`, or lacks or malforms `streamSid`, `media.payload` or `mark.name`.
    pub fn parse(text: &str) -> Result<Self, TwilioError> {
        let wire = read_wire(text)?.map_err(TwilioError::Media)?;
        let stream_sid = stream_sid(wire.stream_sid)?;
        Ok(match wire.event.as_str() {
            "media" => Self::Media {
                stream_sid,
                payload: decode_payload(&need(wire.media, "media")?.payload)?,
            },
            "mark" => Self::Mark {
                stream_sid,
                name: need(wire.mark, "mark")?.name,
            },
            "clear" => Self::Clear { stream_sid },
            other => {
                let shown: String = other.chars().take(64).collect();
                return Err(bad("event", &format!("{shown:?} cannot be sent to Twilio")));
            }
        })
    }
}
