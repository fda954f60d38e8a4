//! `X-Twilio-Signature` against every vector of `twilio-signature-vectors.json` (§b.5).

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use otto_fakes::fixtures;
use otto_twilio::TwilioError;
use otto_twilio::signature::{SignatureValidator, sign};
use secrecy::SecretString;

struct Vector {
    name: String,
    token: SecretString,
    url: String,
    params: Vec<(String, String)>,
    raw_body: Option<String>,
    expected: String,
}

fn vectors() -> Vec<Vector> {
    let doc = fixtures::json("twilio-signature-vectors.json");
    let list = doc["vectors"].as_array().expect("vectors array");
    assert_eq!(list.len(), 8, "the fixture has 8 vectors");
    list.iter()
        .map(|v| Vector {
            name: v["name"].as_str().expect("name").to_string(),
            token: SecretString::from(v["auth_token"].as_str().expect("token")),
            url: v["url"].as_str().expect("url").to_string(),
            params: v["params"]
                .as_array()
                .expect("params")
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().expect("param name").to_string(),
                        p[1].as_str().expect("param value").to_string(),
                    )
                })
                .collect(),
            raw_body: v["raw_body"].as_str().map(str::to_string),
            expected: v["expected"].as_str().expect("expected").to_string(),
        })
        .collect()
}

#[test]
fn signer_reproduces_every_vector() {
    for v in vectors() {
        assert_eq!(sign(&v.token, &v.url, &v.params), v.expected, "{}", v.name);
    }
}

#[test]
fn validator_accepts_every_vector() {
    for v in vectors() {
        let validator = SignatureValidator::new(v.token.clone());
        let result = match &v.raw_body {
            Some(body) => validator.validate_json(&v.url, body.as_bytes(), Some(&v.expected)),
            None => validator.validate_form(&v.url, &v.params, Some(&v.expected)),
        };
        assert!(result.is_ok(), "{}: {result:?}", v.name);
    }
}

#[test]
fn port_rule_accepts_either_variant() {
    let v = vectors();
    let (portless, with_443, http_80, port_1234) = (&v[0], &v[1], &v[2], &v[3]);
    let validator = SignatureValidator::new(portless.token.clone());
    // Request seen on the explicit-port URL, signed without the port.
    let on_1234 = "https://mycompany.com:1234/myapp.php?foo=1&bar=2";
    assert!(
        validator
            .validate_form(on_1234, &portless.params, Some(&portless.expected))
            .is_ok()
    );
    // Request seen without a port, signed with the default :443.
    assert!(
        validator
            .validate_form(&portless.url, &portless.params, Some(&with_443.expected))
            .is_ok()
    );
    // http with :80 and an explicit non-default port keep working.
    assert!(
        validator
            .validate_form(
                "http://mycompany.com/myapp.php?foo=1&bar=2",
                &http_80.params,
                Some(&http_80.expected)
            )
            .is_ok()
    );
    assert!(
        validator
            .validate_form(&port_1234.url, &port_1234.params, Some(&port_1234.expected))
            .is_ok()
    );
    // But a non-default port signature does not validate on a different port.
    assert!(
        validator
            .validate_form(
                "http://mycompany.com:9999/myapp.php?foo=1&bar=2",
                &port_1234.params,
                Some(&port_1234.expected)
            )
            .is_err()
    );
}

#[test]
fn parameter_order_on_the_wire_does_not_matter() {
    let v = &vectors()[6];
    let mut reversed = v.params.clone();
    reversed.reverse();
    let validator = SignatureValidator::new(v.token.clone());
    assert!(
        validator
            .validate_form(&v.url, &reversed, Some(&v.expected))
            .is_ok()
    );
}

#[test]
fn tampering_is_rejected() {
    let v = &vectors()[6];
    let validator = SignatureValidator::new(v.token.clone());
    let mut changed = v.params.clone();
    changed[15].1 = "+14155550000".into(); // From
    assert!(matches!(
        validator.validate_form(&v.url, &changed, Some(&v.expected)),
        Err(TwilioError::BadSignature)
    ));
    let mut extra = v.params.clone();
    extra.push(("Digits".into(), "1".into()));
    assert!(
        validator
            .validate_form(&v.url, &extra, Some(&v.expected))
            .is_err()
    );
    assert!(
        validator
            .validate_form(
                "https://voice.example.com/twilio/other",
                &v.params,
                Some(&v.expected)
            )
            .is_err()
    );
    let wrong_token = SignatureValidator::new(SecretString::from("other"));
    assert!(
        wrong_token
            .validate_form(&v.url, &v.params, Some(&v.expected))
            .is_err()
    );
    assert!(validator.validate_form(&v.url, &v.params, None).is_err());
    assert!(
        validator
            .validate_form(&v.url, &v.params, Some("not base64!"))
            .is_err()
    );
    assert!(
        validator
            .validate_form(&v.url, &v.params, Some(""))
            .is_err()
    );
}

#[test]
fn secondary_token_is_accepted_during_rotation() {
    let v = &vectors()[6];
    let validator =
        SignatureValidator::new(SecretString::from("new-primary")).with_secondary(v.token.clone());
    assert!(
        validator
            .validate_form(&v.url, &v.params, Some(&v.expected))
            .is_ok()
    );
}

#[test]
fn json_body_must_match_its_hash() {
    let v = &vectors()[5];
    let validator = SignatureValidator::new(v.token.clone());
    assert!(
        validator
            .validate_json(&v.url, b"{\"property\": \"other\"}", Some(&v.expected))
            .is_err()
    );
    assert!(
        validator
            .validate_json(
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                b"{}",
                Some(&v.expected)
            )
            .is_err()
    );
}

#[test]
fn websocket_upgrade_is_signed_over_the_wss_url_without_params() {
    let token = SecretString::from("test_auth_token_0123456789abcdef");
    let url = "wss://voice.example.com/twilio/media";
    let header = sign(&token, url, &[]);
    let validator = SignatureValidator::new(token);
    assert!(validator.validate_form(url, &[], Some(&header)).is_ok());
    assert!(
        validator
            .validate_form("https://voice.example.com/twilio/media", &[], Some(&header))
            .is_err()
    );
}
