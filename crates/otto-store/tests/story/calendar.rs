//! The calendar outbox: with it on, a booking, a move and a cancellation each enqueue one
//! `calendar.sync` job in their own transaction; a refused change and a confirmation none.

use std::sync::Arc;

use chrono::Duration;
use otto_core::records::{AppointmentStatus, BookingSource, CALENDAR_SYNC_JOB, Job};
use otto_store::testing::{customer, utc};
use otto_store::{NewAppointment, Store, StoreError, calendar_sync_key};

async fn sync_jobs(store: &Arc<dyn Store>) -> Vec<Job> {
    let mut jobs = store.jobs(None, 100).await.unwrap();
    jobs.retain(|j| j.kind == CALENDAR_SYNC_JOB);
    jobs
}

pub async fn bookings_moves_and_cancellations_enqueue_calendar_syncs(store: Arc<dyn Store>) {
    let owner = store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap();
    let start = utc(2030, 3, 6, 14, 0);
    let new = NewAppointment {
        customer_id: owner.id,
        vehicle_id: None,
        service: "oil_change".into(),
        start,
        end: start + Duration::minutes(30),
        source: BookingSource::Phone,
        notes: None,
    };
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
