//! The NHTSA client against `FakeNhtsa`, over real HTTP on loopback, with every `nhtsa-*`
//! fixture.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use otto_core::domain::Vin;
use otto_fakes::{FakeNhtsa, fixtures};
use otto_providers::ProviderError;
use otto_providers::nhtsa::{DecodeVerdict, NhtsaClient, NhtsaConfig};

fn client(fake: &FakeNhtsa) -> NhtsaClient {
    NhtsaClient::new(NhtsaConfig {
        enabled: true,
        vpic_base_url: fake.vpic_base_url(),
        recalls_base_url: fake.recalls_base_url(),
        timeout_ms: 2000,
    })
    .expect("valid config")
}

fn vin(s: &str) -> Vin {
    Vin::parse(s).expect("test VIN is valid")
}

#[tokio::test]
async fn clean_decode_is_parsed_and_cached() {
    let fake = FakeNhtsa::start().await;
    let client = client(&fake);
    let d = client
        .decode_vin(&vin("1HGCM82633A004352"))
        .await
        .expect("decodes");
    assert_eq!(d.make.as_deref(), Some("HONDA"));
    assert_eq!(d.model.as_deref(), Some("Accord"));
    assert_eq!(d.model_year, Some(2003));
    assert_eq!(d.trim.as_deref(), Some("EX-V6"));
    assert_eq!(d.body_class.as_deref(), Some("Coupe"));
    assert_eq!(d.engine_cylinders, Some(6));
    assert_eq!(d.error_codes, vec![0]);
    assert_eq!(d.verdict(), DecodeVerdict::Clean);
    let again = client
        .decode_vin(&vin("1hgcm82633a004352"))
        .await
        .expect("decodes");
    assert_eq!(again, d);
    assert_eq!(fake.request_count(), 1, "second decode served from cache");
}

#[tokio::test]
async fn error_codes_drive_the_verdict() {
    let fake = FakeNhtsa::start().await;
    let client = client(&fake);
    // Served with HTTP 200 whatever the ErrorCode, as vPIC does.
    let body = fixtures::text("nhtsa-decodevinvalues-check-digit-error.json");
    fake.set_decode("1HGCM82633A004352", body);
    let d = client
        .decode_vin(&vin("1HGCM82633A004352"))
        .await
        .expect("decodes");
    assert_eq!(
        (d.error_codes.clone(), d.verdict()),
        (vec![1], DecodeVerdict::Confirm)
    );

    let partial = fixtures::text("nhtsa-decodevinvalues-partial-wildcard.json");
    fake.set_decode("2HGFC2F58JH512345", partial.replace("\"6\"", "\"6,14\""));
    let d = client
        .decode_vin(&vin("2HGFC2F58JH512345"))
        .await
        .expect("decodes");
    assert_eq!(
        (d.error_codes.clone(), d.verdict()),
        (vec![6, 14], DecodeVerdict::Confirm)
    );
    assert_eq!(d.trim, None, "blank fields are None");

    // Unknown manufacturer: ErrorCode 7, nothing decoded.
    let d = client
        .decode_vin(&vin("5YJ3E1EA2KF317000"))
        .await
        .expect("decodes");
    assert_eq!(
        (d.error_codes.clone(), d.make.clone(), d.verdict()),
        (vec![7], None, DecodeVerdict::Reject)
    );
}

#[tokio::test]
async fn recalls_parse_dates_and_nullable_flags() {
    let fake = FakeNhtsa::start().await;
    let client = client(&fake);
    let recalls = client
        .recalls("Honda", "Accord", 2003)
        .await
        .expect("recalls");
    assert_eq!(recalls.len(), 2);
    assert_eq!(recalls[0].campaign_number, "19V182000");
    assert_eq!(
        recalls[0].report_received,
        chrono::NaiveDate::from_ymd_opt(2019, 3, 5)
    );
    assert_eq!(recalls[0].park_it, Some(false));
    assert_eq!(
        recalls[1].report_received,
        chrono::NaiveDate::from_ymd_opt(2020, 5, 28)
    );
    assert_eq!(
        (recalls[1].park_it, recalls[1].over_the_air_update),
        (None, Some(false))
    );
    client
        .recalls("HONDA", "ACCORD", 2003)
        .await
        .expect("cached");
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn empty_envelope_means_no_recalls_with_200_or_400() {
    let fake = FakeNhtsa::start().await;
    let client = client(&fake);
    let empty = fixtures::text("nhtsa-recalls-by-vehicle-empty.json");
    fake.set_recalls("TESLA", "MODEL 3", "2019", 200, empty);
    assert!(
        client
            .recalls("Tesla", "Model 3", 2019)
            .await
            .expect("200 empty")
            .is_empty()
    );
    // Unknown vehicles: HTTP 400 with the empty envelope (the fake's default).
    assert!(
        client
            .recalls("NOPE", "NADA", 2024)
            .await
            .expect("400 empty")
            .is_empty()
    );
    // A 400 with any other body is an error.
    fake.set_recalls("BAD", "REQ", "2020", 400, r#"{"Message":"bad request"}"#);
    let err = client.recalls("bad", "req", 2020).await.expect_err("400");
    assert!(
        matches!(err, ProviderError::Status { status: 400, .. }) && !err.retryable(),
        "{err:?}"
    );
}

#[tokio::test]
async fn html_outage_is_a_clear_retryable_error() {
    let fake = FakeNhtsa::start().await;
    let client = client(&fake);
    fake.set_outage(true);
    let err = client
        .decode_vin(&vin("1HGCM82633A004352"))
        .await
        .expect_err("503");
    assert!(err.retryable());
    assert_eq!(err.to_string(), "nhtsa answered HTTP 503: HTML error page");
    let err = client
        .recalls("HONDA", "ACCORD", 2003)
        .await
        .expect_err("503");
    assert!(matches!(err, ProviderError::Status { status: 503, .. }));
    // Errors are not cached: the service comes back, the lookup works.
    fake.set_outage(false);
    client
        .decode_vin(&vin("1HGCM82633A004352"))
        .await
        .expect("back");
}

#[tokio::test]
async fn slow_answers_time_out_and_bad_input_never_leaves() {
    let fake = FakeNhtsa::start().await;
    let client = NhtsaClient::new(NhtsaConfig {
        enabled: true,
        vpic_base_url: fake.vpic_base_url(),
        recalls_base_url: fake.recalls_base_url(),
        timeout_ms: 100,
    })
    .expect("valid");
    fake.set_delay_ms(500);
    let err = client
        .decode_vin(&vin("1HGCM82633A004352"))
        .await
        .expect_err("slow");
    assert!(
        matches!(err, ProviderError::Timeout { after_ms: 100, .. }),
        "{err:?}"
    );
    let before = fake.request_count();
    for (make, model, year) in [
        ("", "ACCORD", 2003),
        ("HONDA", "A\nB", 2003),
        ("HONDA", "ACCORD", 1800),
    ] {
        let err = client
            .recalls(make, model, year)
            .await
            .expect_err("invalid");
        assert!(matches!(err, ProviderError::InvalidInput(_)), "{err:?}");
    }
    assert_eq!(fake.request_count(), before);
}

#[tokio::test]
async fn disabled_and_bad_config() {
    let client = NhtsaClient::new(NhtsaConfig::default()).expect("defaults are valid");
    let err = client
        .decode_vin(&vin("1HGCM82633A004352"))
        .await
        .expect_err("disabled");
    assert!(matches!(err, ProviderError::Disabled(_)) && !err.retryable());
    let bad = NhtsaConfig {
        vpic_base_url: "vpic".into(),
        ..NhtsaConfig::default()
    };
    assert!(matches!(
        NhtsaClient::new(bad),
        Err(ProviderError::Config(_))
    ));
    let parsed: NhtsaConfig = serde_json::from_str(r#"{"enabled":true}"#).expect("partial config");
    assert_eq!(parsed.recalls_base_url, "https://api.nhtsa.gov");
    assert!(
        serde_json::from_str::<NhtsaConfig>(r#"{"enabeld":true}"#).is_err(),
        "typos rejected"
    );
}
