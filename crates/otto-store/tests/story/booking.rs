//! Atomic booking: bay assignment, capacity, reschedule, status rules and the 50-way race.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use otto_core::records::{AppointmentStatus, BookingSource, Id};
use otto_store::{NewAppointment, Store, StoreError};

use otto_store::testing::{customer, utc};

fn job(customer_id: Id, start: DateTime<Utc>, minutes: i64) -> NewAppointment {
    NewAppointment {
        customer_id,
        vehicle_id: None,
        service: "oil_change".into(),
        start,
        end: start + Duration::minutes(minutes),
        source: BookingSource::Phone,
        notes: Some("test".into()),
    }
}

async fn a_customer(store: &Arc<dyn Store>) -> Id {
    store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap()
        .id
}

pub async fn booking_fills_bays_then_refuses(store: Arc<dyn Store>) {
    let c = a_customer(&store).await;
    let ten = utc(2030, 3, 5, 15, 0);
    let first = store.book(&job(c, ten, 60), 2).await.unwrap();
    assert_eq!((first.bay, first.status), (1, AppointmentStatus::Scheduled));
    assert_eq!((first.start, first.end), (ten, ten + Duration::minutes(60)));
    assert_eq!(first.source, BookingSource::Phone);
    assert_eq!(first.notes.as_deref(), Some("test"));
    assert_eq!(
        store.appointment(first.id).await.unwrap(),
        Some(first.clone())
    );

    let second = store
        .book(&job(c, ten + Duration::minutes(30), 60), 2)
        .await
        .unwrap();
    assert_eq!(second.bay, 2);
    // Overlaps both: no bay left.
    let e = store
        .book(&job(c, ten + Duration::minutes(45), 30), 2)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::SlotTaken), "{e:?}");
    // Touching the end of bay 1's job is fine: bay 1 again.
    let after = store
        .book(&job(c, ten + Duration::minutes(60), 30), 2)
        .await
        .unwrap();
    assert_eq!(after.bay, 1);

    // Cancelling frees the bay.
    store
        .set_appointment_status(second.id, AppointmentStatus::Cancelled)
        .await
        .unwrap();
    let again = store
        .book(&job(c, ten + Duration::minutes(45), 15), 2)
        .await
        .unwrap();
    assert_eq!(again.bay, 2);

    let active = store
        .active_appointments_between(ten, ten + Duration::hours(2))
        .await
        .unwrap();
    let ids: Vec<Id> = active.iter().map(|a| a.id).collect();
    assert_eq!(ids, [first.id, again.id, after.id]);
    let all = store.appointments_of(c, ten).await.unwrap();
    assert_eq!(all.len(), 4, "cancelled ones are listed too");
    assert!(
        store
            .appointments_of(c, ten + Duration::hours(3))
            .await
            .unwrap()
            .is_empty()
    );

    // End not after start: the CHECK rejects it, nothing stored.
    let mut backwards = job(c, ten + Duration::hours(5), 30);
    backwards.end = backwards.start;
    let e = store.book(&backwards, 2).await.unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)), "{e:?}");
    // Unknown customer: foreign key.
    let e = store
        .book(&job(c + 99, ten + Duration::hours(6), 30), 2)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)), "{e:?}");
    assert_eq!(store.appointments_of(c, ten).await.unwrap().len(), 4);

    // An instant the backend cannot represent is refused clearly (PostgreSQL) or simply
    // matches nothing before it (SQLite), never a bare database error.
    match store.appointments_of(c + 1, DateTime::<Utc>::MIN_UTC).await {
        Ok(list) => assert!(list.is_empty()),
        Err(StoreError::Rejected(_)) => assert_eq!(store.backend(), "postgres"),
        Err(e) => panic!("{e:?}"),
    }
}

pub async fn reschedule_and_status_follow_the_rules(store: Arc<dyn Store>) {
    let c = a_customer(&store).await;
    let nine = utc(2030, 3, 5, 14, 0);
    let a = store.book(&job(c, nine, 60), 2).await.unwrap();
    let b = store.book(&job(c, nine, 60), 2).await.unwrap();

    // Moving within its own time (overlapping itself) is allowed and keeps a free bay.
    let moved = store
        .reschedule(
            a.id,
            nine + Duration::minutes(30),
            nine + Duration::minutes(90),
            2,
        )
        .await
        .unwrap();
    assert_eq!(moved.bay, 1);
    assert_eq!(moved.start, nine + Duration::minutes(30));
    assert_eq!(moved.status, AppointmentStatus::Scheduled);
    // A third job where both are busy cannot be moved in.
    let c3 = store
        .book(&job(c, nine + Duration::hours(3), 30), 2)
        .await
        .unwrap();
    let e = store
        .reschedule(
            c3.id,
            nine + Duration::minutes(30),
            nine + Duration::minutes(60),
            2,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::SlotTaken), "{e:?}");
    assert_eq!(store.appointment(c3.id).await.unwrap(), Some(c3.clone()));

    let confirmed = store
        .set_appointment_status(b.id, AppointmentStatus::Confirmed)
        .await
        .unwrap();
    assert_eq!(confirmed.status, AppointmentStatus::Confirmed);
    let done = store
        .set_appointment_status(b.id, AppointmentStatus::Completed)
        .await
        .unwrap();
    assert_eq!(done.status, AppointmentStatus::Completed);
    // Inactive appointments never change again (no reviving past the capacity check).
    let e = store
        .set_appointment_status(b.id, AppointmentStatus::Scheduled)
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::NotActive(id) if id == b.id),
        "{e:?}"
    );
    let e = store
        .reschedule(
            b.id,
            nine + Duration::hours(5),
            nine + Duration::hours(6),
            2,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotActive(_)), "{e:?}");
    let e = store
        .set_appointment_status(9999, AppointmentStatus::Cancelled)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
    let e = store
        .reschedule(9999, nine, nine + Duration::hours(1), 2)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");

    store
        .set_calendar_event_id(a.id, Some("evt_123"))
        .await
        .unwrap();
    let a = store.appointment(a.id).await.unwrap().unwrap();
    assert_eq!(a.calendar_event_id.as_deref(), Some("evt_123"));
    let e = store.set_calendar_event_id(9999, None).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
}

pub async fn fifty_racing_bookings_for_two_bays_give_two(store: Arc<dyn Store>) {
    let c = a_customer(&store).await;
    let start = utc(2030, 3, 6, 15, 0);
    let barrier = Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = store.clone();
        let barrier = barrier.clone();
        // Different lengths, all overlapping [start, start + 30 min).
        let new = job(c, start, 30 + (i % 3) * 15);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.book(&new, 2).await
        }));
    }
    let (mut ok, mut taken) = (Vec::new(), 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(a) => ok.push(a.bay),
            Err(StoreError::SlotTaken) => taken += 1,
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    ok.sort_unstable();
    assert_eq!(ok, [1, 2]);
    assert_eq!(taken, 48);
    let stored = store
        .active_appointments_between(start, start + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
}
