//! The calendar outbox: with it on, a booking, a move and a cancellation each enqueue one
//! `calendar.sync` job in their own transaction; a refused change and a confirmation none.
//! Calendar state (sync and refresh tokens) and the drift the reconcile found are kept.

use std::sync::Arc;

use chrono::Duration;
use otto_core::records::{AppointmentStatus, BookingSource, CALENDAR_SYNC_JOB, Job};
use otto_store::calendar::SYNC_TOKEN_PREFIX;
use otto_store::testing::{customer, utc};
use otto_store::{CalendarDrift, NewAppointment, Store, StoreError, calendar_sync_key};

async fn sync_jobs(store: &Arc<dyn Store>) -> Vec<Job> {
    let mut jobs = store.jobs(None, 100).await.unwrap();
    jobs.retain(|j| j.kind == CALENDAR_SYNC_JOB);
    jobs
}

/// A new customer's 30-minute oil change on 6 March 2030 at 14:00 UTC.
async fn oil_change_for_jordan(store: &Arc<dyn Store>) -> NewAppointment {
    let owner = store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap();
    let start = utc(2030, 3, 6, 14, 0);
    NewAppointment {
        customer_id: owner.id,
        vehicle_id: None,
        service: "oil_change".into(),
        start,
        end: start + Duration::minutes(30),
        source: BookingSource::Phone,
        notes: None,
    }
}

pub async fn bookings_moves_and_cancellations_enqueue_calendar_syncs(store: Arc<dyn Store>) {
    let new = oil_change_for_jordan(&store).await;
    let start = new.start;
    store.book(&new, 1).await.unwrap();
    assert!(
        sync_jobs(&store).await.is_empty(),
        "the outbox is off by default"
    );

    store.set_calendar_outbox(true);
    let a = store.book(&new, 2).await.unwrap();
    let jobs = sync_jobs(&store).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].payload, a.id.to_string());
    assert_eq!(
        jobs[0].dedup_key.as_deref(),
        Some(calendar_sync_key(&a).as_str())
    );

    // Refused: no bay left, nothing enqueued.
    assert!(matches!(
        store.book(&new, 2).await,
        Err(StoreError::SlotTaken)
    ));
    assert_eq!(sync_jobs(&store).await.len(), 1);

    let moved = store
        .reschedule(
            a.id,
            start + Duration::hours(2),
            start + Duration::minutes(150),
            2,
        )
        .await
        .unwrap();
    store
        .set_appointment_status(a.id, AppointmentStatus::Confirmed)
        .await
        .unwrap();
    assert_eq!(
        sync_jobs(&store).await.len(),
        2,
        "a confirmation changes no event"
    );
    let cancelled = store
        .set_appointment_status(a.id, AppointmentStatus::Cancelled)
        .await
        .unwrap();
    let keys: Vec<_> = sync_jobs(&store)
        .await
        .into_iter()
        .filter_map(|j| j.dedup_key)
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.contains(&calendar_sync_key(&moved)));
    assert!(keys.contains(&calendar_sync_key(&cancelled)));
    assert!(
        store
            .set_appointment_status(a.id, AppointmentStatus::Cancelled)
            .await
            .is_err()
    );
    assert_eq!(sync_jobs(&store).await.len(), 3);
}

pub async fn calendar_state_and_drift_are_kept(store: Arc<dyn Store>) {
    let name = format!("{SYNC_TOKEN_PREFIX}primary");
    assert_eq!(store.calendar_state(&name).await.unwrap(), None);
    store.set_calendar_state(&name, Some("t1")).await.unwrap();
    store.set_calendar_state(&name, Some("t2")).await.unwrap();
    assert_eq!(
        store.calendar_state(&name).await.unwrap().as_deref(),
        Some("t2")
    );
    store.set_calendar_state(&name, None).await.unwrap();
    assert_eq!(store.calendar_state(&name).await.unwrap(), None);
    assert!(matches!(
        store
            .set_calendar_state(&name, Some(&"x".repeat(8001)))
            .await,
        Err(StoreError::Rejected(_))
    ));
    assert!(matches!(
        store.calendar_state("").await,
        Err(StoreError::Rejected(_))
    ));

    let new = oil_change_for_jordan(&store).await;
    let a = store.book(&new, 2).await.unwrap();
    let b = store.book(&new, 2).await.unwrap();
    let moved = CalendarDrift {
        appointment_id: a.id,
        booked: (a.start, a.end),
        event: Some((a.start + Duration::hours(3), a.end + Duration::hours(3))),
        found_at: utc(2030, 3, 1, 9, 0),
    };
    let deleted = CalendarDrift {
        appointment_id: b.id,
        booked: (b.start, b.end),
        event: None,
        found_at: utc(2030, 3, 1, 10, 0),
    };
    store.record_calendar_drift(&moved).await.unwrap();
    store.record_calendar_drift(&deleted).await.unwrap();
    // Recorded again: replaced, not doubled.
    store.record_calendar_drift(&moved).await.unwrap();
    // An appointment that does not exist is ignored.
    store
        .record_calendar_drift(&CalendarDrift {
            appointment_id: 999_999,
            ..moved.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        store.calendar_drifts(10).await.unwrap(),
        vec![deleted.clone(), moved.clone()]
    );

    // Only active appointments show; a cleared drift is gone.
    store
        .set_appointment_status(b.id, AppointmentStatus::Cancelled)
        .await
        .unwrap();
    assert_eq!(
        store.calendar_drifts(10).await.unwrap(),
        vec![moved.clone()]
    );
    store.clear_calendar_drift(a.id).await.unwrap();
    store.clear_calendar_drift(a.id).await.unwrap();
    assert!(store.calendar_drifts(10).await.unwrap().is_empty());
}
