//! TwiML for voice (`shared/protocols/twilio.md` §c): a small typed document ([`Response`]
//! of [`Verb`]s) that is written as XML for webhook answers and REST `Twiml` updates, and read
//! back (the simulator follows `<Connect><Stream>`; tests compare documents semantically).
//!
//! Written XML is compact, without an XML declaration (as in the REST `Twiml` form field),
//! with text and attribute values escaped by `quick-xml`. Writing validates what Twilio would
//! reject or silently break: a `<Stream url>` must be `wss://` (or `ws://` for a local
//! simulator) and must not carry a query string, which Twilio drops (§c.1); pass data with
//! `<Parameter>`s instead.

use quick_xml::XmlVersion;
use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::Event;

use crate::TwilioError;

/// `Content-Type` of a webhook answer carrying TwiML.
pub const CONTENT_TYPE: &str = "text/xml";

/// Longest TwiML document read, in bytes.
pub const MAX_TWIML_BYTES: usize = 64 * 1024;

/// A TwiML document: `<Response>` with verbs executed in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// The verbs, in order.
    pub verbs: Vec<Verb>,
}

/// One TwiML verb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// `<Connect><Stream>`: bidirectional media stream; blocks until the socket closes (§c.1).
    Connect(Stream),
    /// `<Start><Stream>`: one-way fork, non-blocking (§c.2).
    Start(Stream),
    /// `<Say>`: text to speech.
    Say(Say),
    /// `<Pause length>`: silence, whole seconds.
    Pause {
        /// Seconds of silence (Twilio's default is 1).
        length_s: u32,
    },
    /// `<Hangup/>`.
    Hangup,
    /// `<Dial>`: bridge the caller to another number (transfer).
    Dial(Dial),
    /// `<Redirect>URL</Redirect>`: fetch new TwiML.
    Redirect(String),
    /// `<Message>text</Message>`: the SMS reply to an incoming message (Messaging TwiML).
    Message(String),
    /// A verb this module does not model, by element name (read only; never written).
    Other(String),
}

/// `<Stream>` inside `<Connect>` or `<Start>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stream {
    /// `url`: the WebSocket URL Twilio connects to (no query string).
    pub url: String,
    /// `name`: unique stream name.
    pub name: Option<String>,
    /// `track`: `inbound_track`, `outbound_track`, `both_tracks` (only with `<Start>`).
    pub track: Option<String>,
    /// `statusCallback`: URL receiving stream events.
    pub status_callback: Option<String>,
    /// `<Parameter name value>`s, delivered in the `start` message's `customParameters`.
    pub parameters: Vec<(String, String)>,
}

/// `<Say>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Say {
    /// The text spoken.
    pub text: String,
    /// `voice`, e.g. `alice`, `Polly.Joanna`.
    pub voice: Option<String>,
    /// `language`, e.g. `en-US`.
    pub language: Option<String>,
}

/// `<Dial>` with one `<Number>` (a short-form `<Dial>+1…</Dial>` reads as the same).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dial {
    /// The number dialled (E.164).
    pub number: String,
    /// `callerId`: our Twilio number or a verified one.
    pub caller_id: Option<String>,
    /// `timeout`: ring seconds (Twilio's default 30).
    pub timeout_s: Option<u32>,
    /// `action`: URL requested when the dialled leg ends.
    pub action: Option<String>,
    /// `method` for `action`: `GET` or `POST`.
    pub method: Option<String>,
}

impl Stream {
    /// A stream to `url` with no other attributes.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// Adds a `<Parameter name value>`.
    pub fn parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.push((name.into(), value.into()));
        self
    }

    /// Sets `name`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets `statusCallback`.
    pub fn status_callback(mut self, url: impl Into<String>) -> Self {
        self.status_callback = Some(url.into());
        self
    }

    fn validate(&self) -> Result<(), TwilioError> {
        let url = &self.url;
        if !(url.starts_with("wss://") || url.starts_with("ws://")) {
            return Err(TwilioError::Twiml(
                "<Stream url> must be a wss:// (or local ws://) URL".into(),
            ));
        }
        if url.contains(['?', '#']) {
            return Err(TwilioError::Twiml(
                "<Stream url> must not have a query string (Twilio drops it); use <Parameter>"
                    .into(),
            ));
        }
        if self.parameters.iter().any(|(n, _)| n.is_empty()) {
            return Err(TwilioError::Twiml("<Parameter> with an empty name".into()));
        }
        Ok(())
    }
}

impl Say {
    /// `<Say>` of `text` with Twilio's default voice.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

impl Dial {
    /// `<Dial><Number>number</Number></Dial>` with no attributes.
    pub fn new(number: impl Into<String>) -> Self {
        Self {
            number: number.into(),
            ..Self::default()
        }
    }
}

impl Response {
    /// An empty document (Twilio hangs up when the verbs run out).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `<Connect><Stream>`.
    pub fn connect(mut self, stream: Stream) -> Self {
        self.verbs.push(Verb::Connect(stream));
        self
    }

    /// Appends `<Say>`.
    pub fn say(mut self, say: Say) -> Self {
        self.verbs.push(Verb::Say(say));
        self
    }

    /// Appends `<Pause length>` (seconds).
    pub fn pause(mut self, length_s: u32) -> Self {
        self.verbs.push(Verb::Pause { length_s });
        self
    }

    /// Appends `<Hangup/>`.
    pub fn hangup(mut self) -> Self {
        self.verbs.push(Verb::Hangup);
        self
    }

    /// Appends `<Message>`: the reply to an incoming SMS (at most 1,600 characters are sent
    /// as one message by Twilio).
    pub fn message(mut self, text: impl Into<String>) -> Self {
        self.verbs.push(Verb::Message(text.into()));
        self
    }

    /// Appends `<Dial>`.
    pub fn dial(mut self, dial: Dial) -> Self {
        self.verbs.push(Verb::Dial(dial));
        self
    }

    /// The first `<Connect><Stream>`, if any.
    pub fn connect_stream(&self) -> Option<&Stream> {
        self.verbs.iter().find_map(|v| match v {
            Verb::Connect(s) => Some(s),
            _ => None,
        })
    }

    /// Writes the document as compact XML (no declaration).
    ///
    /// # Errors
    /// [`TwilioError::Twiml`] for a bad `<Stream>` URL or parameter, an empty `<Dial>`
    /// number, or a [`Verb::Other`] (which can be read but not written).
    pub fn to_xml(&self) -> Result<String, TwilioError> {
        let mut out = String::from("<Response>");
        for verb in &self.verbs {
            match verb {
                Verb::Connect(s) => write_stream(&mut out, "Connect", s)?,
                Verb::Start(s) => write_stream(&mut out, "Start", s)?,
                Verb::Say(s) => {
                    out.push_str("<Say");
                    attr(&mut out, "voice", s.voice.as_deref());
                    attr(&mut out, "language", s.language.as_deref());
                    out.push('>');
                    out.push_str(&escape(s.text.as_str()));
                    out.push_str("</Say>");
                }
                Verb::Pause { length_s } => {
                    out.push_str(&format!("<Pause length=\"{length_s}\"/>"));
                }
                Verb::Hangup => out.push_str("<Hangup/>"),
                Verb::Dial(d) => {
                    if d.number.trim().is_empty() {
                        return Err(TwilioError::Twiml("<Dial> without a number".into()));
                    }
                    out.push_str("<Dial");
                    attr(&mut out, "callerId", d.caller_id.as_deref());
                    attr(
                        &mut out,
                        "timeout",
                        d.timeout_s.map(|t| t.to_string()).as_deref(),
                    );
                    attr(&mut out, "action", d.action.as_deref());
                    attr(&mut out, "method", d.method.as_deref());
                    out.push_str("><Number>");
                    out.push_str(&escape(d.number.as_str()));
                    out.push_str("</Number></Dial>");
                }
                Verb::Redirect(url) => {
                    out.push_str("<Redirect>");
                    out.push_str(&escape(url.as_str()));
                    out.push_str("</Redirect>");
                }
                Verb::Message(text) => {
                    out.push_str("<Message>");
                    out.push_str(&escape(text.as_str()));
                    out.push_str("</Message>");
                }
                Verb::Other(name) => {
                    return Err(TwilioError::Twiml(format!("cannot write verb <{name}>")));
                }
            }
        }
        out.push_str("</Response>");
        Ok(out)
    }

    /// Reads a TwiML document. Unknown verbs become [`Verb::Other`]; unknown attributes are
    /// ignored.
    ///
    /// # Errors
    /// [`TwilioError::Twiml`] when the text is larger than [`MAX_TWIML_BYTES`], is not
    /// well-formed XML, has no `<Response>` root, or a known verb lacks what it needs
    /// (`<Stream url>`, a number `<Pause length>`, a `<Dial>` number).
    pub fn parse(xml: &str) -> Result<Self, TwilioError> {
        if xml.len() > MAX_TWIML_BYTES {
            return Err(TwilioError::Twiml("document too large".into()));
        }
        let root = parse_tree(xml)?;
        if root.name != "Response" {
            return Err(TwilioError::Twiml(format!(
                "root is <{}>, not <Response>",
                root.name
            )));
        }
        let verbs = root
            .children
            .iter()
            .map(verb_from)
            .collect::<Result<_, _>>()?;
        Ok(Self { verbs })
    }
}

fn attr(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        out.push_str(&escape(v));
        out.push('"');
    }
}

fn write_stream(out: &mut String, verb: &str, s: &Stream) -> Result<(), TwilioError> {
    s.validate()?;
    out.push('<');
    out.push_str(verb);
    out.push_str("><Stream");
    attr(out, "url", Some(&s.url));
    attr(out, "name", s.name.as_deref());
    attr(out, "track", s.track.as_deref());
    attr(out, "statusCallback", s.status_callback.as_deref());
    if s.parameters.is_empty() {
        out.push_str("/>");
    } else {
        out.push('>');
        for (name, value) in &s.parameters {
            out.push_str("<Parameter");
            attr(out, "name", Some(name));
            attr(out, "value", Some(value));
            out.push_str("/>");
        }
        out.push_str("</Stream>");
    }
    out.push_str("</");
    out.push_str(verb);
    out.push('>');
    Ok(())
}

/// An XML element: name, attributes in document order, trimmed text, child elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn attr_owned(&self, name: &str) -> Option<String> {
        self.attr(name).map(str::to_string)
    }
}

fn xml_err(e: impl std::fmt::Display) -> TwilioError {
    TwilioError::Twiml(format!("not well-formed XML: {e}"))
}

/// Reads `xml` into its root [`Element`].
pub(crate) fn parse_tree(xml: &str) -> Result<Element, TwilioError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let open = |e: &quick_xml::events::BytesStart<'_>| -> Result<Element, TwilioError> {
        let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(xml_err)?;
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let value = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(xml_err)?;
            attrs.push((key, value.into_owned()));
        }
        Ok(Element {
            name,
            attrs,
            text: String::new(),
            children: Vec::new(),
        })
    };
    loop {
        let event = reader.read_event().map_err(xml_err)?;
        match event {
            Event::Start(e) => stack.push(open(&e)?),
            Event::Empty(e) => {
                let el = open(&e)?;
                close(&mut stack, &mut root, el)?;
            }
            Event::End(_) => {
                let mut el = stack.pop().ok_or_else(|| xml_err("unbalanced end tag"))?;
                el.text = el.text.trim().to_string();
                close(&mut stack, &mut root, el)?;
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.decode().map_err(xml_err)?);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.decode().map_err(xml_err)?);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(xml_err)? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(xml_err)?;
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| xml_err(format!("unknown entity &{name};")))?
                            .to_string()
                    }
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(xml_err("unclosed element"));
    }
    root.ok_or_else(|| xml_err("no root element"))
}

fn close(
    stack: &mut [Element],
    root: &mut Option<Element>,
    el: Element,
) -> Result<(), TwilioError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None if root.is_none() => *root = Some(el),
        None => return Err(xml_err("more than one root element")),
    }
    Ok(())
}

fn verb_from(el: &Element) -> Result<Verb, TwilioError> {
    Ok(match el.name.as_str() {
        "Connect" | "Start" => {
            let stream = el
                .children
                .iter()
                .find(|c| c.name == "Stream")
                .ok_or_else(|| TwilioError::Twiml(format!("<{}> without <Stream>", el.name)))?;
            let s = Stream {
                url: stream
                    .attr_owned("url")
                    .ok_or_else(|| TwilioError::Twiml("<Stream> without url".into()))?,
                name: stream.attr_owned("name"),
                track: stream.attr_owned("track"),
                status_callback: stream.attr_owned("statusCallback"),
                parameters: stream
                    .children
                    .iter()
                    .filter(|p| p.name == "Parameter")
                    .map(|p| {
                        (
                            p.attr_owned("name").unwrap_or_default(),
                            p.attr_owned("value").unwrap_or_default(),
                        )
                    })
                    .collect(),
            };
            if el.name == "Connect" {
                Verb::Connect(s)
            } else {
                Verb::Start(s)
            }
        }
        "Say" => Verb::Say(Say {
            text: el.text.clone(),
            voice: el.attr_owned("voice"),
            language: el.attr_owned("language"),
        }),
        "Pause" => Verb::Pause {
            length_s: match el.attr("length") {
                None => 1,
                Some(l) => l
                    .trim()
                    .parse()
                    .map_err(|_| TwilioError::Twiml("<Pause length> is not a number".into()))?,
            },
        },
        "Hangup" => Verb::Hangup,
        "Dial" => {
            let number = el
                .children
                .iter()
                .find(|c| c.name == "Number")
                .map_or_else(|| el.text.clone(), |n| n.text.clone());
            if number.is_empty() {
                return Err(TwilioError::Twiml("<Dial> without a number".into()));
            }
            Verb::Dial(Dial {
                number,
                caller_id: el.attr_owned("callerId"),
                timeout_s: el
                    .attr("timeout")
                    .map(|t| {
                        t.trim()
                            .parse()
                            .map_err(|_| TwilioError::Twiml("<Dial timeout> not a number".into()))
                    })
                    .transpose()?,
                action: el.attr_owned("action"),
                method: el.attr_owned("method"),
            })
        }
        "Redirect" => Verb::Redirect(el.text.clone()),
        "Message" => Verb::Message(el.text.clone()),
        other => Verb::Other(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use otto_fakes::fixtures;

    /// Element tree of an XML text, for semantic comparison (names, attributes as a set,
    /// trimmed text, children in order).
    fn tree(xml: &str) -> Element {
        let mut el = parse_tree(xml).expect("well-formed");
        fn normalise(el: &mut Element) {
            el.attrs.sort();
            el.children.iter_mut().for_each(normalise);
        }
        normalise(&mut el);
        el
    }

    fn connect_stream_doc() -> Response {
        Response::new()
            .connect(
                Stream::new("wss://voice.example.com/twilio/media")
                    .name("agent-stream")
                    .status_callback("https://voice.example.com/twilio/stream-status")
                    .parameter("tenant", "acme")
                    .parameter("caller", "+14155551234"),
            )
            .say(Say::new("The assistant has disconnected. Goodbye."))
            .hangup()
    }

    #[test]
    fn connect_stream_matches_the_fixture() {
        let xml = connect_stream_doc().to_xml().expect("writes");
        assert_eq!(
            tree(&xml),
            tree(&fixtures::text("twilio-twiml-connect-stream.xml"))
        );
    }

    #[test]
    fn say_pause_hangup_matches_the_fixture() {
        let doc = Response::new()
            .say(Say {
                text: "Sorry, we could not connect you right now.".into(),
                voice: Some("alice".into()),
                language: Some("en-US".into()),
            })
            .pause(1)
            .hangup();
        let xml = doc.to_xml().expect("writes");
        assert_eq!(
            tree(&xml),
            tree(&fixtures::text("twilio-twiml-say-pause-hangup.xml"))
        );
    }

    #[test]
    fn dial_transfer_matches_the_fixture() {
        let doc = Response::new()
            .say(Say::new("Transferring you now."))
            .dial(Dial {
                number: "+14155559876".into(),
                caller_id: Some("+15005550006".into()),
                timeout_s: Some(20),
                action: Some("https://voice.example.com/twilio/dial-done".into()),
                method: Some("POST".into()),
            });
        let xml = doc.to_xml().expect("writes");
        assert_eq!(
            tree(&xml),
            tree(&fixtures::text("twilio-twiml-dial-transfer.xml"))
        );
    }

    #[test]
    fn every_fixture_reads_into_typed_verbs() {
        let read = |name: &str| Response::parse(&fixtures::text(name)).expect(name);
        assert_eq!(
            read("twilio-twiml-connect-stream.xml"),
            connect_stream_doc()
        );
        let start = read("twilio-twiml-start-stream.xml");
        assert_eq!(
            start.verbs,
            [
                Verb::Start(Stream {
                    url: "wss://voice.example.com/twilio/fork".into(),
                    track: Some("both_tracks".into()),
                    ..Stream::default()
                }),
                Verb::Say(Say::new("This call may be transcribed.")),
                Verb::Pause { length_s: 2 },
                // The short form <Dial>+1…</Dial> means the same as <Dial><Number>.
                Verb::Dial(Dial::new("+14155559876")),
            ]
        );
        let say = read("twilio-twiml-say-pause-hangup.xml");
        assert_eq!(say.verbs[1], Verb::Pause { length_s: 1 });
        let dial = read("twilio-twiml-dial-transfer.xml");
        assert!(matches!(&dial.verbs[1], Verb::Dial(d) if d.timeout_s == Some(20)));
    }

    #[test]
    fn written_documents_read_back_equal() {
        let doc = connect_stream_doc()
            .dial(Dial::new("+14155559876"))
            .pause(3);
        let back = Response::parse(&doc.to_xml().expect("writes")).expect("reads");
        assert_eq!(back, doc);
    }

    #[test]
    fn text_and_attributes_are_escaped() {
        let doc = Response::new()
            .connect(Stream::new("wss://h/m").parameter("name", "A&B \"quoted\" <x> 'y'"))
            .say(Say::new("Tom & Jerry <3 \"you\""));
        let xml = doc.to_xml().expect("writes");
        assert!(!xml.contains("A&B"), "{xml}");
        assert!(xml.contains("Tom &amp; Jerry &lt;3"), "{xml}");
        assert_eq!(Response::parse(&xml).expect("reads"), doc);
    }

    #[test]
    fn stream_urls_are_validated() {
        for bad in ["https://h/m", "wss://h/m?token=1", "wss://h/m#x", "h/m"] {
            let doc = Response::new().connect(Stream::new(bad));
            assert!(doc.to_xml().is_err(), "{bad}");
        }
        assert!(
            Response::new()
                .connect(Stream::new("ws://127.0.0.1:9/m"))
                .to_xml()
                .is_ok()
        );
        let unnamed = Response::new().connect(Stream::new("wss://h/m").parameter("", "v"));
        assert!(unnamed.to_xml().is_err());
        assert!(Response::new().dial(Dial::new(" ")).to_xml().is_err());
    }

    #[test]
    fn bad_documents_are_errors_not_panics() {
        for bad in [
            "",
            "<Response>",
            "<Other/>",
            "<Response><Pause length=\"x\"/></Response>",
            "<Response><Connect/></Response>",
            "<Response><Dial></Dial></Response>",
            "<Response><Say>&bogus;</Say></Response>",
            "<Response/><Response/>",
            "<Response></Other>",
        ] {
            assert!(Response::parse(bad).is_err(), "{bad:?}");
        }
        let unknown = Response::parse("<Response><Gather/><Reject/></Response>").expect("reads");
        assert_eq!(
            unknown.verbs,
            [Verb::Other("Gather".into()), Verb::Other("Reject".into())]
        );
    }
}
