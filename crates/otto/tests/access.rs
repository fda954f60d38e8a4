//! Doors outside the dashboard: `/metrics` behind a bearer token (or loopback only), and
//! `/chat` (acting as any caller) only with a staff session, or switched off.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;

use reqwest::StatusCode;
use secrecy::SecretString;

use common::{spawn_app, try_spawn_app};

async fn get(url: &str, bearer: Option<&str>) -> StatusCode {
    let mut req = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url);
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    req.send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_bearer_token_when_one_is_set() {
    let open = spawn_app(|_| {}).await;
    assert_eq!(
        get(&format!("{}/metrics", open.url()), None).await,
        StatusCode::OK,
        "without a token, loopback peers may scrape"
    );
    assert_eq!(
        get(&format!("{}/chat", open.url()), None).await,
        StatusCode::SEE_OTHER,
        "/chat sends strangers to sign in"
    );

    let locked = spawn_app(|c| {
        c.server.metrics_token = Some(SecretString::from("s3cret-scrape"));
        c.server.chat = false;
    })
    .await;
    let metrics = format!("{}/metrics", locked.url());
    assert_eq!(get(&metrics, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&metrics, Some("wrong")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&metrics, Some("s3cret-scrape")).await, StatusCode::OK);
    assert_eq!(
        get(&format!("{}/chat", locked.url()), None).await,
        StatusCode::NOT_FOUND,
        "/chat is not served when switched off"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_twilio_signatures_are_skipped_only_on_loopback() {
    // A first run with no Twilio account: nothing outside can reach a loopback URL.
    let local = try_spawn_app(|c| c.twilio = None).await;
    assert!(local.is_ok(), "{:?}", local.err());
    // Exposed without an auth token to check signatures: refused, saying why.
    let exposed = try_spawn_app(|c| {
        c.twilio = None;
        c.server.public_url = "https://otto.example.com".into();
    })
    .await;
    let e = exposed
        .err()
        .expect("an exposed server without Twilio must not start");
    assert!(e.to_string().contains("not a loopback address"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_names_its_request_id() {
    let app = spawn_app(|_| {}).await;
    let http = reqwest::Client::new();
    let id = |r: &reqwest::Response| {
        r.headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_string())
    };
    let a = http
        .get(format!("{}/health", app.url()))
        .send()
        .await
        .unwrap();
    let b = http
        .get(format!("{}/nowhere", app.url()))
        .send()
        .await
        .unwrap();
    let (a, b) = (id(&a).expect("an id"), id(&b).expect("an id, on a 404 too"));
    assert_ne!(a, b);
    // A proxy's id is kept; anything else is replaced.
    let kept = http
        .get(format!("{}/health", app.url()))
        .header("x-request-id", "proxy-123_abc")
        .send()
        .await
        .unwrap();
    assert_eq!(id(&kept).as_deref(), Some("proxy-123_abc"));
    let replaced = http
        .get(format!("{}/health", app.url()))
        .header("x-request-id", "<script>")
        .send()
        .await
        .unwrap();
    assert_ne!(id(&replaced).as_deref(), Some("<script>"));
}
