//! The Google Calendar client against `otto_fakes::google` on 127.0.0.1: tokens (cache, 401,
//! invalid_grant), freeBusy, idempotent insert, patch with 412, delete 404/410, sync.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use otto_core::calendar::Calendar;
use otto_core::scheduling::Interval;
use otto_fakes::google::{self, FRONTDESK, FakeGoogle, Fault, Op};
use otto_providers::ProviderError;
use otto_providers::google::wire::{Event, EventDateTime, ExtendedProperties};
use otto_providers::google::{
    APPOINTMENT_KEY, AuthState, GoogleBusy, GoogleCalendarClient, SyncPage, TokenSource,
    event_id_for,
};
use secrecy::SecretString;

fn t(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, h, m, 0)
        .single()
        .expect("valid time")
}

fn client(fake: &FakeGoogle, timeout_ms: u64) -> GoogleCalendarClient {
    let tokens = TokenSource::new(
        &fake.token_url(),
        google::CLIENT_ID,
        SecretString::from(google::CLIENT_SECRET),
        SecretString::from(google::REFRESH_TOKEN),
        timeout_ms,
    )
    .expect("token source");
    GoogleCalendarClient::new(&fake.api_base_url(), Arc::new(tokens), timeout_ms).expect("client")
}

fn event(appointment: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Event {
    let at = |t: DateTime<Utc>| EventDateTime {
        date_time: Some(t.with_timezone(&chrono_tz::America::New_York).to_rfc3339()),
        time_zone: Some("America/New_York".into()),
        date: None,
    };
    Event {
        id: Some(event_id_for(&format!("otto:{appointment}"))),
        summary: Some("Oil change — 2019 Honda Civic".into()),
        start: Some(at(start)),
        end: Some(at(end)),
        transparency: Some("transparent".into()),
        extended_properties: Some(ExtendedProperties {
            private: [(APPOINTMENT_KEY.to_owned(), appointment.to_owned())].into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn tokens_are_cached_and_refreshed_once_on_401() {
    let fake = FakeGoogle::start().await;
    let c = client(&fake, 2000);
    let window = Interval {
        start: t(9, 0, 0),
        end: t(10, 0, 0),
    };
    let cals = vec![FRONTDESK.to_owned()];
    c.free_busy(&window, &cals).await.expect("first");
    c.free_busy(&window, &cals).await.expect("second");
    assert_eq!(fake.count(Op::Token), 1, "the access token is reused");
    assert_eq!(c.tokens().state(), AuthState::Authorised);

    fake.expire_access_tokens();
    c.free_busy(&window, &cals).await.expect("after a 401");
    assert_eq!(fake.count(Op::Token), 2, "one refresh after the 401");
    assert_eq!(fake.count(Op::FreeBusy), 4, "the call was made once more");
}

#[tokio::test]
async fn a_short_lived_token_is_refreshed_before_it_expires() {
    let fake = FakeGoogle::start().await;
    fake.set_expires_in(30); // less than the 60 s margin: never reused
    let c = client(&fake, 2000);
    let window = Interval {
        start: t(9, 0, 0),
        end: t(10, 0, 0),
    };
    let cals = vec![FRONTDESK.to_owned()];
    c.free_busy(&window, &cals).await.expect("first");
    c.free_busy(&window, &cals).await.expect("second");
    assert_eq!(fake.count(Op::Token), 2);
}

#[tokio::test]
async fn invalid_grant_asks_for_reauthorisation_and_is_not_retried_at_once() {
    let fake = FakeGoogle::start().await;
    fake.revoke_refresh_token();
    let c = client(&fake, 2000);
    let window = Interval {
        start: t(9, 0, 0),
        end: t(10, 0, 0),
    };
    let cals = vec![FRONTDESK.to_owned()];
    let e = c
        .free_busy(&window, &cals)
        .await
        .expect_err("dead refresh token");
    assert!(
        matches!(&e, ProviderError::Status { code: Some(c), .. } if c == "invalid_grant"),
        "{e}"
    );
    assert!(!e.retryable());
    assert_eq!(
        c.tokens().state(),
        AuthState::Reauthorise("Token has been expired or revoked.".into())
    );
    assert!(!format!("{e}").contains(google::REFRESH_TOKEN));
    c.free_busy(&window, &cals).await.expect_err("still dead");
    assert_eq!(
        fake.count(Op::Token),
        1,
        "the token endpoint rests after invalid_grant"
    );
}

#[tokio::test]
async fn free_busy_reports_external_events_and_unreadable_calendars() {
    let fake = FakeGoogle::start().await;
    fake.add_external_event(FRONTDESK, "Mike off", t(9, 14, 0), t(9, 16, 0));
    fake.add_external_event(FRONTDESK, "Other day", t(12, 14, 0), t(12, 16, 0));
    let c = client(&fake, 2000);
    let window = Interval {
        start: t(9, 0, 0),
        end: t(10, 0, 0),
    };
    let busy = c
        .free_busy(&window, &[FRONTDESK.to_owned()])
        .await
        .expect("busy");
    assert_eq!(
        busy,
        vec![Interval {
            start: t(9, 14, 0),
            end: t(9, 16, 0)
        }]
    );

    let e = c
        .free_busy(
            &window,
            &[FRONTDESK.to_owned(), "bay2@example-garage.com".to_owned()],
        )
        .await
        .expect_err("an unreadable calendar is no proof of free time");
    assert!(
        matches!(&e, ProviderError::Status { code: Some(c), .. } if c == "notFound"),
        "{e}"
    );
}

#[tokio::test]
async fn an_insert_that_timed_out_after_google_stored_it_is_not_duplicated() {
    let fake = FakeGoogle::start().await;
    fake.fail_next(
        Op::Insert,
        [Fault::StoreThenStall(Duration::from_millis(1500))],
    );
    let c = client(&fake, 300);
    let e = event("42", t(10, 14, 0), t(10, 15, 0));
    let first = c.insert_event(FRONTDESK, &e).await.expect_err("timed out");
    assert!(first.retryable(), "{first}");
    let stored = c
        .insert_event(FRONTDESK, &e)
        .await
        .expect("the retry finds it");
    assert_eq!(stored.id, e.id);
    assert_eq!(fake.events(FRONTDESK).len(), 1);
    let wire = &fake.events(FRONTDESK)[0];
    assert_eq!(wire["extendedProperties"]["private"][APPOINTMENT_KEY], "42");
    assert_eq!(wire["start"]["timeZone"], "America/New_York");
    assert_eq!(wire["start"]["dateTime"], "2026-03-10T10:00:00-04:00");

    // The same id for another appointment is not taken for ours.
    let mut other = e.clone();
    other.extended_properties = None;
    let clash = c
        .insert_event(FRONTDESK, &other)
        .await
        .expect_err("not ours");
    assert!(!clash.retryable());
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retryable_and_permissions_are_not() {
    let fake = FakeGoogle::start().await;
    fake.fail_next(
        Op::Insert,
        [
            Fault::Status(403, "google-error-403-rate-limit.json"),
            Fault::Status(429, "google-error-429.json"),
            Fault::Status(500, "google-error-500.json"),
            Fault::Status(403, "google-error-403-forbidden.json"),
        ],
    );
    let c = client(&fake, 2000);
    let e = event("7", t(10, 14, 0), t(10, 15, 0));
    for retry in [true, true, true, false] {
        let err = c.insert_event(FRONTDESK, &e).await.expect_err("scripted");
        assert_eq!(err.retryable(), retry, "{err}");
    }
    c.insert_event(FRONTDESK, &e).await.expect("then it works");
}

#[tokio::test]
async fn patch_rereads_on_412_and_delete_is_idempotent() {
    let fake = FakeGoogle::start().await;
    let c = client(&fake, 2000);
    let e = event("5", t(10, 14, 0), t(10, 15, 0));
    let id = e.id.clone().expect("id");
    c.insert_event(FRONTDESK, &e).await.expect("insert");
    fake.fail_next(Op::Patch, [Fault::Status(412, "google-error-412.json")]);
    let moved = event("5", t(11, 18, 0), t(11, 19, 0));
    let patch = Event {
        start: moved.start.clone(),
        end: moved.end.clone(),
        ..Default::default()
    };
    let after = c
        .patch_event(FRONTDESK, &id, &patch)
        .await
        .expect("patched");
    assert_eq!(after.start, moved.start);
    assert_eq!(fake.count(Op::Patch), 2);
    assert_eq!(fake.count(Op::Get), 2, "read again after the 412");

    c.delete_event(FRONTDESK, &id).await.expect("delete");
    c.delete_event(FRONTDESK, &id)
        .await
        .expect("410: already deleted");
    c.delete_event(FRONTDESK, &event_id_for("never"))
        .await
        .expect("404: never existed");
    assert!(fake.live_events(FRONTDESK).is_empty());
}

#[tokio::test]
async fn sync_pages_through_empty_pages_then_follows_changes() {
    let fake = FakeGoogle::start().await;
    let c = client(&fake, 2000);
    let e = event("9", t(10, 14, 0), t(10, 15, 0));
    let id = e.id.clone().expect("id");
    c.insert_event(FRONTDESK, &e).await.expect("insert");
    let SyncPage::Changes {
        events,
        next_sync_token,
    } = c
        .sync_events(FRONTDESK, None, t(1, 0, 0))
        .await
        .expect("full")
    else {
        panic!("a full sync cannot be stale")
    };
    assert_eq!(events.len(), 1);
    assert_eq!(fake.count(Op::List), 2, "the empty first page was followed");

    fake.move_event(FRONTDESK, &id, t(10, 16, 0), t(10, 17, 0));
    let SyncPage::Changes {
        events,
        next_sync_token,
    } = c
        .sync_events(FRONTDESK, Some(&next_sync_token), t(1, 0, 0))
        .await
        .expect("delta")
    else {
        panic!("fresh token")
    };
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].private(APPOINTMENT_KEY), Some("9"));

    c.delete_event(FRONTDESK, &id).await.expect("delete");
    let SyncPage::Changes { events, .. } = c
        .sync_events(FRONTDESK, Some(&next_sync_token), t(1, 0, 0))
        .await
        .expect("delta")
    else {
        panic!("fresh token")
    };
    assert_eq!(events[0].status.as_deref(), Some("cancelled"));

    fake.expire_sync_tokens();
    assert_eq!(
        c.sync_events(FRONTDESK, Some(&next_sync_token), t(1, 0, 0))
            .await
            .expect("410"),
        SyncPage::FullSyncRequired
    );
}

#[tokio::test]
async fn busy_time_is_cached_invalidated_and_bounded_by_its_deadline() {
    let fake = FakeGoogle::start().await;
    fake.add_external_event(FRONTDESK, "Loaner out", t(9, 14, 0), t(9, 15, 0));
    let busy = GoogleBusy::new(client(&fake, 2000), vec![FRONTDESK.to_owned()], 60, 400);
    let job = Interval {
        start: t(9, 13, 0),
        end: t(9, 14, 30),
    };
    assert_eq!(busy.busy(&job).await.expect("busy").len(), 1);
    let later = Interval {
        start: t(9, 17, 0),
        end: t(9, 18, 0),
    };
    busy.busy(&later).await.expect("same day, cached");
    assert_eq!(fake.count(Op::FreeBusy), 1);
    otto_providers::google::invalidate_all();
    busy.busy(&later).await.expect("asked again");
    assert_eq!(fake.count(Op::FreeBusy), 2);

    otto_providers::google::invalidate_all();
    fake.set_busy_delay_ms(3000);
    let started = Instant::now();
    let e = busy.busy(&job).await.expect_err("too slow");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(e.retryable, "{e}");
}
