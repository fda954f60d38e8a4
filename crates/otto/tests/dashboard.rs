//! The staff dashboard over real HTTP: every route refuses strangers (login redirect or 401),
//! sign-in sets a strict cookie and is rate-limited, every form needs the session's CSRF token,
//! owner-only pages refuse staff, and the pages show and change the shop's records through
//! the booking rules, with an audit log entry for each write. The main story runs on SQLite
//! and, when `OTTO_TEST_DATABASE_URL` is set, on PostgreSQL.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use otto_core::records::{AppointmentStatus, StaffRole};
use otto_store::NewMessage;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use common::staff::{PASSWORD, Session, add_staff, client, csrf_of};
use common::{TestApp, book_for_jordan, spawn_app};

/// Every dashboard route: (method, path).
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/appointments"),
    ("GET", "/appointments/new?customer=1"),
    ("POST", "/appointments/new"),
    ("GET", "/appointments/1"),
    ("POST", "/appointments/1/move"),
    ("POST", "/appointments/1/cancel"),
    ("GET", "/customers?q=smith"),
    ("GET", "/customers/1"),
    ("GET", "/calls"),
    ("GET", "/calls/1"),
    ("GET", "/calls/1/recording"),
    ("GET", "/messages"),
    ("POST", "/messages/1/handled"),
    ("GET", "/live"),
    ("GET", "/performance"),
    ("GET", "/staff"),
    ("POST", "/staff"),
    ("GET", "/try"),
    ("GET", "/chat?from=%2B15555550123"),
    ("POST", "/logout"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_sent_to_sign_in_and_forms_need_csrf_and_roles() {
    let app = spawn_app(|_| {}).await;
    add_staff(app.shop.store().as_ref(), "owner", StaffRole::Owner).await;
    add_staff(app.shop.store().as_ref(), "desk", StaffRole::Staff).await;
    let base = app.url();
    let http = client();

    // No session: GETs are redirected to the login page, everything else gets 401; a made-up
    // session cookie is no better.
    for cookie in [None, Some("otto_session=forged")] {
        for (method, path) in ROUTES {
            let mut req = http.request(method.parse().unwrap(), format!("{base}{path}"));
            if let Some(c) = cookie {
                req = req.header(COOKIE, c);
            }
            let r = req.send().await.unwrap();
            if *method == "GET" {
                assert_eq!(r.status(), StatusCode::SEE_OTHER, "{method} {path}");
                let to = r.headers()[LOCATION].to_str().unwrap();
                assert!(to.starts_with("/login?next="), "{path} → {to}");
            } else {
                assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            }
        }
    }
    // What stays open: health, readiness, the login page, the stylesheet.
    for path in ["/health", "/ready", "/login", "/assets/otto.css"] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }

    // Sign-in: a wrong password and a missing login token are refused.
    let wrong = http
        .post(format!("{base}/login"))
        .form(&[
            ("name", "owner"),
            ("password", "wrong password"),
            ("csrf", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        wrong.status(),
        StatusCode::FORBIDDEN,
        "no login cookie: CSRF"
    );
    let login = http.get(format!("{base}/login")).send().await.unwrap();
    let cookie = login.headers()[SET_COOKIE].to_str().unwrap().to_string();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let token = csrf_of(&login.text().await.unwrap());
    let attempt = |name: &'static str, password: &'static str| {
        http.post(format!("{base}/login"))
            .header(COOKIE, &cookie)
            .form(&[("name", name), ("password", password), ("csrf", &token)])
            .send()
    };
    assert_eq!(
        attempt("owner", "wrong password").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("nobody", "wrong password").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    let owner = Session::sign_in(&app.url(), "owner").await;
    let desk = Session::sign_in(&app.url(), "desk").await;

    // Every page renders for a signed-in member.
    for (method, path) in ROUTES {
        if *method == "GET" && !path.starts_with("/chat") && !path.contains("recording") {
            let (status, _) = owner.get(path).await;
            assert!(
                status == StatusCode::OK || status == StatusCode::NOT_FOUND,
                "{path}: {status}"
            );
        }
    }

    // Posts without the CSRF token, or with another session's, are refused.
    for (method, path) in ROUTES.iter().filter(|(m, _)| *m == "POST") {
        let (status, _) = owner.post_raw(path, &[]).await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path} without csrf: {status}"
        );
        let (status, _) = owner.post_raw(path, &[("csrf", &desk.csrf)]).await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path} with another session's csrf: {status}"
        );
    }

    // Owner-only: the staff page and adding accounts.
    assert_eq!(desk.get("/staff").await.0, StatusCode::FORBIDDEN);
    let (status, _) = desk
        .post(
            "/staff",
            &[
                ("name", "intruder"),
                ("role", "owner"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        app.shop
            .store()
            .staff_account("intruder")
            .await
            .unwrap()
            .is_none()
    );
    let (status, _) = owner
        .post(
            "/staff",
            &[
                ("name", "mechanic"),
                ("role", "staff"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        app.shop
            .store()
            .staff_account("mechanic")
            .await
            .unwrap()
            .is_some()
    );
    let (_, page) = owner.get("/staff").await;
    assert!(
        page.contains("staff.add") && page.contains("mechanic"),
        "audited"
    );

    // Signing out ends the session on the server, not just in the browser.
    let (status, _) = desk.post("/logout", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(desk.get("/").await.0, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_rate_limited_per_account() {
    let app = spawn_app(|_| {}).await;
    add_staff(app.shop.store().as_ref(), "owner", StaffRole::Owner).await;
    let base = app.url();
    let http = client();
    let login = http.get(format!("{base}/login")).send().await.unwrap();
    let cookie = login.headers()[SET_COOKIE].to_str().unwrap().to_string();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let token = csrf_of(&login.text().await.unwrap());
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let r = http
            .post(format!("{base}/login"))
            .header(COOKIE, &cookie)
            .form(&[
                ("name", "owner"),
                ("password", "guess guess guess"),
                ("csrf", &token),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
    }
    assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5]);
    assert_eq!(statuses[5..], [StatusCode::TOO_MANY_REQUESTS; 2]);
    // Even the right password waits now.
    let r = http
        .post(format!("{base}/login"))
        .header(COOKIE, &cookie)
        .form(&[("name", "owner"), ("password", PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// Staff see and change the shop's records through the booking rules, audited.
async fn staff_work_the_records(app: &TestApp) {
    add_staff(app.shop.store().as_ref(), "owner", StaffRole::Owner).await;
    let owner = Session::sign_in(&app.url(), "owner").await;
    let store = app.shop.store().clone();
    let tz = app.shop.config().time_zone;

    // Customers by name, phone and VIN; the customer page.
    let (_, page) = owner.get("/customers?q=jordan").await;
    assert!(page.contains("Jordan Smith"), "by name");
    let (_, page) = owner.get("/customers?q=555-0123").await;
    assert!(page.contains("Jordan Smith"), "by phone");
    let jordan = store
        .customer_by_phone(&common::jordan())
        .await
        .unwrap()
        .unwrap();
    let vin = store.vehicles_of(jordan.id).await.unwrap()[0]
        .vin
        .clone()
        .expect("Jordan's Civic has a VIN");
    let (_, page) = owner
        .get(&format!("/customers?q={}", &vin.as_str()[9..]))
        .await;
    assert!(page.contains("Jordan Smith"), "by VIN");
    let (status, page) = owner.get(&format!("/customers/{}", jordan.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Honda") && page.contains(vin.as_str()),
        "vehicles"
    );

    // Move an appointment: done through the rules, audited.
    let (booked, (other, _)) = book_for_jordan(&app.shop).await;
    let local = other.with_timezone(&tz);
    let day = local.date_naive().to_string();
    let time = local.format("%H:%M").to_string();
    let (status, to) = owner
        .post(
            &format!("/appointments/{}/move", booked.id),
            &[("day", &day), ("time", &time)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!to.contains("error"), "{to}");
    let moved = store.appointment(booked.id).await.unwrap().unwrap();
    assert_eq!(moved.start, other, "moved in the database");
    // A time the shop is closed is refused with the reason, and nothing changes.
    let (_, to) = owner
        .post(
            &format!("/appointments/{}/move", booked.id),
            &[("day", &day), ("time", "03:00")],
        )
        .await;
    assert!(to.contains("error="), "{to}");
    let (_, page) = owner.get(&to).await;
    assert!(page.contains("Not done"), "the reason is shown");
    assert_eq!(
        store.appointment(booked.id).await.unwrap().unwrap().start,
        other
    );
    // Bad form input is a clear refusal, not a crash.
    let (_, to) = owner
        .post(
            &format!("/appointments/{}/move", booked.id),
            &[("day", "next tuesday"), ("time", "9")],
        )
        .await;
    assert!(to.contains("error="), "{to}");
    // A calendar event moved by hand in Google shows on Today until it matches again.
    let (_, page) = owner.get("/").await;
    assert!(!page.contains("Calendar changes"));
    store
        .record_calendar_drift(&otto_store::CalendarDrift {
            appointment_id: booked.id,
            booked: (moved.start, moved.end),
            event: Some((
                moved.start + chrono::Duration::hours(2),
                moved.end + chrono::Duration::hours(2),
            )),
            found_at: Utc::now(),
        })
        .await
        .unwrap();
    let (_, page) = owner.get("/").await;
    assert!(page.contains("Calendar changes (1)"), "{page}");
    let shown = (moved.start + chrono::Duration::hours(2))
        .with_timezone(&tz)
        .format("%-I:%M %p")
        .to_string();
    assert!(
        page.contains("moved in Google to") && page.contains(&shown),
        "{page}"
    );
    store.clear_calendar_drift(booked.id).await.unwrap();
    let (_, page) = owner.get("/").await;
    assert!(!page.contains("Calendar changes"));
    // The week view and the search list it.
    let (_, page) = owner.get(&format!("/appointments?week={day}")).await;
    assert!(
        page.contains(&format!("/appointments/{}", booked.id)),
        "week view"
    );
    let (_, page) = owner.get("/appointments?q=jordan").await;
    assert!(
        page.contains(&format!("/appointments/{}", booked.id)),
        "search"
    );

    // Cancel.
    let (status, _) = owner
        .post(&format!("/appointments/{}/cancel", booked.id), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        store.appointment(booked.id).await.unwrap().unwrap().status,
        AppointmentStatus::Cancelled
    );

    // Book for a customer from the dashboard, by the same rules.
    let (status, page) = owner
        .get(&format!("/appointments/new?customer={}", jordan.id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("oil_change"), "services listed");
    let (status, to) = owner
        .post(
            "/appointments/new",
            &[
                ("customer_id", &jordan.id.to_string()),
                ("vehicle_id", ""),
                ("service", "oil_change"),
                ("day", &day),
                ("time", &time),
                ("notes", "booked at the desk"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id: i64 = to
        .strip_prefix("/appointments/")
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(|| panic!("redirect to the new appointment, got {to}"));
    let made = store.appointment(id).await.unwrap().unwrap();
    assert_eq!(made.start, other);
    assert_eq!(made.source.as_str(), "dashboard");

    // Messages: listed, marked handled once, by whom.
    let m = store
        .create_message(&NewMessage {
            call_id: None,
            customer_id: Some(jordan.id),
            from_phone: jordan.phone.to_string(),
            caller_name: Some(jordan.name.clone()),
            body: "please call me about the brakes quote".into(),
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    let (_, page) = owner.get("/messages").await;
    assert!(page.contains("brakes quote"));
    let (status, _) = owner
        .post(&format!("/messages/{}/handled", m.id), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let handled = store.messages(false, 10).await.unwrap();
    let handled = handled.iter().find(|x| x.id == m.id).unwrap();
    assert_eq!(handled.handled_by.as_deref(), Some("owner"));
    let (_, page) = owner.get("/messages").await;
    assert!(!page.contains("brakes quote"), "no longer waiting");
    assert_eq!(
        owner.post("/messages/999999/handled", &[]).await.0,
        StatusCode::NOT_FOUND
    );

    // Every write is in the audit log, newest first, with who did it.
    let log = store.audit_log(10).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "message.handled",
            "appointment.book",
            "appointment.cancel",
            "appointment.move"
        ]
    );
    assert!(log.iter().all(|e| e.staff == "owner"));

    // Pages for records that do not exist are 404, bad filters 400.
    assert_eq!(owner.get("/calls/999999").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        owner.get("/customers/999999").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        owner.get("/calls?day=yesterday").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        owner.get("/calls?outcome=maybe").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        owner.get("/appointments?week=soon").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_work_the_records_on_sqlite() {
    let app = spawn_app(|_| {}).await;
    staff_work_the_records(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_work_the_records_on_postgres() {
    let Some(db) = otto_store::testing::postgres("dashboard").await else {
        return;
    };
    let url = db.url.clone();
    let app = spawn_app(move |c| c.database_url = url).await;
    staff_work_the_records(&app).await;
    drop(app);
    db.finish().await;
}
