//! End to end in a real browser: headless Chromium driven over WebDriver (ChromeDriver,
//! Debian's `chromium` and `chromium-driver`, which `scripts/test.sh` installs). A staff
//! member signs in, a simulated call placed with `otto call` books an oil change, and the
//! browser finds the call, its transcript and tool action, and the new appointment; moves the
//! appointment (checked in the database); marks a message handled. A screenshot of each page
//! goes to `target/screenshots/`.
//!
//! Without ChromeDriver the test says so and passes, unless `OTTO_TEST_BROWSER=1` (set by
//! `scripts/test.sh`), when it fails.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use fantoccini::{Client, ClientBuilder, Locator};
use otto_core::records::StaffRole;
use otto_store::NewMessage;
use serde_json::json;

use common::KillOnDrop;
use common::staff::{PASSWORD, add_staff};
use common::{JORDAN, spawn_app};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// ChromeDriver on a free loopback port, killed on drop.
struct Driver {
    _process: KillOnDrop,
    port: u16,
}

fn start_driver() -> Driver {
    let port = common::free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    Driver {
        _process: KillOnDrop(child),
        port,
    }
}

async fn connect(driver: &Driver, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let url = format!("http://127.0.0.1:{}", driver.port);
    for _ in 0..50 {
        let builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await;
        if let Ok(c) = builder {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not answer at {url}");
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// Clicks `css` and waits until the page it leads to has loaded: the old document is marked
/// first, so an element that both pages share cannot be mistaken for the new page.
async fn click_and_load(browser: &Client, css: &str) {
    browser
        .execute("window.ottoOldPage = true;", vec![])
        .await
        .unwrap();
    let element = browser.find(Locator::Css(css)).await.unwrap();
    element.click().await.unwrap();
    for _ in 0..200 {
        // During the navigation a script may fail; that only means "not yet".
        let loaded = browser
            .execute(
                "return window.ottoOldPage === undefined && document.readyState === 'complete';",
                vec![],
            )
            .await;
        if matches!(loaded, Ok(serde_json::Value::Bool(true))) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("clicking {css} loaded no new page within 10 s");
}

async fn type_into(browser: &Client, css: &str, text: &str) {
    let element = browser.find(Locator::Css(css)).await.unwrap();
    element.send_keys(text).await.unwrap();
}

async fn wait_for(browser: &Client, css: &str) {
    browser.wait().for_element(Locator::Css(css)).await.unwrap();
}

/// The page's visible text, read in one script so a reload cannot leave a stale element.
async fn body_text(browser: &Client) -> String {
    let text = browser
        .execute("return document.body.innerText;", vec![])
        .await
        .unwrap();
    text.as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_see_a_booked_call_move_it_and_handle_a_message_in_a_browser() {
    if !Path::new(CHROMEDRIVER).exists() {
        assert_ne!(
            std::env::var("OTTO_TEST_BROWSER").as_deref(),
            Ok("1"),
            "OTTO_TEST_BROWSER=1 but {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipping the browser test: no {CHROMEDRIVER}");
        return;
    }
    let app = spawn_app(|c| c.server.validate_signatures = false).await;
    let store = app.shop.store().clone();
    add_staff(store.as_ref(), "owner", StaffRole::Owner).await;
    let base = app.url();

    // A simulated call, placed with `otto call`, books an oil change.
    let (start, when) = common::speakable_slot(&app.shop).await;
    let data = tempfile::tempdir().unwrap();
    let call = tokio::process::Command::new(env!("CARGO_BIN_EXE_otto"))
        .env("OTTO_DATA_DIR", data.path())
        .env("OTTO_DATABASE_URL", "sqlite::memory:")
        .env("OTTO_SPEECH__WHISPER_MODEL", common::whisper_model())
        .args(["call", "--url", &base, "--from", JORDAN])
        .args([
            "--say",
            &format!("Hi, I'd like to book an oil change on {when}"),
        ])
        .args(["--say", "Yes, please."])
        .args(["--say", "No, that's all. Thank you, goodbye."])
        .output()
        .await
        .unwrap();
    assert!(
        call.status.success(),
        "otto call failed: {}",
        String::from_utf8_lossy(&call.stderr)
    );
    // `otto call` prints what Otto said, as the caller heard it.
    let printed = String::from_utf8_lossy(&call.stdout).to_lowercase();
    let heard = printed
        .split("what otto said")
        .nth(1)
        .unwrap_or_else(|| panic!("no words of Otto's printed: {printed}"));
    assert!(
        heard.matches("otto: ").count() >= 3 && heard.contains("auto"),
        "the greeting and each reply are printed: {printed}"
    );
    let jordan = store
        .customer_by_phone(&common::jordan())
        .await
        .unwrap()
        .unwrap();
    let booked = app
        .shop
        .upcoming(jordan.id, Utc::now())
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.start == start)
        .expect("the call booked the oil change");
    let message = store
        .create_message(&NewMessage {
            call_id: None,
            customer_id: Some(jordan.id),
            from_phone: JORDAN.into(),
            caller_name: Some(jordan.name.clone()),
            body: "Is my Civic ready for pickup?".into(),
            created_at: Utc::now(),
        })
        .await
        .unwrap();

    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let browser = connect(&driver, profile.path()).await;

    // Sign in: the dashboard sends a stranger to the login page first.
    browser.goto(&format!("{base}/calls")).await.unwrap();
    assert!(
        browser
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/login")
    );
    shot(&browser, "login").await;
    type_into(&browser, "input[name=name]", "owner").await;
    type_into(&browser, "input[name=password]", PASSWORD).await;
    click_and_load(&browser, "#login button").await;
    wait_for(&browser, "table.calls").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/calls");
    shot(&browser, "calls").await;

    // The call: its transcript and the booking it made.
    click_and_load(&browser, "table.calls tbody tr td a").await;
    wait_for(&browser, "ol.transcript").await;
    let page = body_text(&browser).await;
    assert!(page.contains("oil change"), "{page}");
    assert!(
        page.contains("book_appointment"),
        "the tool action is shown: {page}"
    );
    assert!(page.contains("booked"), "{page}");
    assert!(
        page.contains("first frame"),
        "per-reply latency is shown: {page}"
    );
    shot(&browser, "call").await;

    // Today, the week, the customer, live calls and performance render.
    for (path, name, expect) in [
        ("/", "today", "Bay 1"),
        ("/appointments", "appointments", "Week of"),
        (
            &format!("/customers/{}", jordan.id) as &str,
            "customer",
            "Honda",
        ),
        ("/live", "live", "Live calls"),
        ("/performance", "performance", "Reply latency"),
        ("/staff", "staff", "Audit log"),
        (
            &format!("/try?customer={}", jordan.id),
            "try",
            "You are talking to Otto as",
        ),
    ] {
        browser.goto(&format!("{base}{path}")).await.unwrap();
        let text = body_text(&browser).await;
        assert!(text.contains(expect), "{path}: {text}");
        shot(&browser, name).await;
    }

    // Move the appointment the call made to another free slot.
    let tz = app.shop.config().time_zone;
    let to = otto::commands::demo::speakable_slots(&app.shop, Utc::now())
        .await
        .unwrap()
        .into_iter()
        .map(|(t, _)| t)
        .find(|t| *t != start)
        .expect("another free slot");
    browser
        .goto(&format!("{base}/appointments/{}", booked.id))
        .await
        .unwrap();
    shot(&browser, "appointment").await;
    // Date and time inputs take keystrokes in the browser's locale order: set them by script.
    for (field, value) in [
        ("day", to.with_timezone(&tz).format("%Y-%m-%d").to_string()),
        ("time", to.with_timezone(&tz).format("%H:%M").to_string()),
    ] {
        let input = browser
            .find(Locator::Css(&format!("#move input[name={field}]")))
            .await
            .unwrap();
        browser
            .execute(
                "arguments[0].value = arguments[1];",
                vec![serde_json::to_value(&input).unwrap(), json!(value)],
            )
            .await
            .unwrap();
    }
    click_and_load(&browser, "#move button").await;
    wait_for(&browser, "#when").await;
    let page = body_text(&browser).await;
    assert!(!page.contains("Not done"), "{page}");
    let moved = store.appointment(booked.id).await.unwrap().unwrap();
    assert_eq!(moved.start, to, "moved in the database");
    shot(&browser, "appointment-moved").await;

    // Mark the message handled.
    browser.goto(&format!("{base}/messages")).await.unwrap();
    assert!(body_text(&browser).await.contains("ready for pickup"));
    shot(&browser, "messages").await;
    click_and_load(&browser, &format!("#message-{} button", message.id)).await;
    // The form posted and the redirect loaded: the message is handled, by whom signed in.
    let handled_by = store
        .messages(false, 50)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.id == message.id)
        .and_then(|m| m.handled_by);
    assert_eq!(handled_by.as_deref(), Some("owner"));
    wait_for(&browser, "p.empty").await;
    assert!(!body_text(&browser).await.contains("ready for pickup"));

    browser.close().await.unwrap();
}
