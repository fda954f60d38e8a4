//! The booking façade: shop rules, ownership checks and slot offers that match booking.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use otto_core::records::{AppointmentStatus, BookingSource, Id};
use otto_core::scheduling::SlotError;
use otto_core::shop::ShopConfig;
use otto_shop::{BookingError, BookingRequest, Shop};
use otto_store::Store;

use otto_store::testing::{civic, customer, utc};

/// Monday 3 March 2025, 08:00 in New York (EST, UTC−5).
fn now() -> chrono::DateTime<chrono::Utc> {
    utc(2025, 3, 3, 13, 0)
}

fn request(
    customer_id: Id,
    vehicle_id: Option<Id>,
    start: chrono::DateTime<chrono::Utc>,
) -> BookingRequest {
    BookingRequest {
        customer_id,
        vehicle_id,
        service_id: "oil change".into(),
        start,
        source: BookingSource::Phone,
        notes: None,
    }
}

pub async fn books_within_rules_and_hides_other_customers(store: Arc<dyn Store>) {
    let shop = Shop::new(store.clone(), Arc::new(ShopConfig::default()));
    let jordan = store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap();
    let alex = store
        .create_customer(&customer("Alex Diaz", "555-555-0177"))
        .await
        .unwrap();
    let car = store.add_vehicle(&civic(jordan.id, None)).await.unwrap();
    // Tuesday 4 March, 10:00 EST.
    let tue10 = utc(2025, 3, 4, 15, 0);

    let booked = shop
        .book(request(jordan.id, Some(car.id), tue10), now())
        .await
        .unwrap();
    assert_eq!(booked.service, "oil_change");
    assert_eq!(booked.end - booked.start, Duration::minutes(30));
    assert_eq!(booked.vehicle_id, Some(car.id));

    // Alex cannot book with Jordan's car, nor see, move or cancel Jordan's appointment.
    let e = shop
        .book(request(alex.id, Some(car.id), tue10), now())
        .await
        .unwrap_err();
    assert!(matches!(e, BookingError::NotFound("vehicle")), "{e:?}");
    let e = shop.cancel(alex.id, booked.id, now()).await.unwrap_err();
    assert!(matches!(e, BookingError::NotFound("appointment")), "{e:?}");
    let e = shop
        .reschedule(alex.id, booked.id, tue10 + Duration::hours(1), now())
        .await
        .unwrap_err();
    assert!(matches!(e, BookingError::NotFound("appointment")), "{e:?}");
    assert!(shop.upcoming(alex.id, now()).await.unwrap().is_empty());
    let e = shop
        .book(request(9999, None, tue10), now())
        .await
        .unwrap_err();
    assert!(matches!(e, BookingError::NotFound("customer")), "{e:?}");

    // Rules: unknown service, lunch, Sunday, lead time, the past.
    let mut teleport = request(jordan.id, None, tue10);
    teleport.service_id = "teleportation".into();
    let e = shop.book(teleport, now()).await.unwrap_err();
    assert!(matches!(e, BookingError::UnknownService(_)), "{e:?}");
    let lunch = utc(2025, 3, 4, 17, 0);
    let e = shop
        .book(request(jordan.id, None, lunch), now())
        .await
        .unwrap_err();
    assert!(
        matches!(e, BookingError::Rule(SlotError::OverlapsLunch { .. })),
        "{e:?}"
    );
    let sunday = utc(2025, 3, 9, 14, 0);
    let e = shop
        .book(request(jordan.id, None, sunday), now())
        .await
        .unwrap_err();
    assert!(
        matches!(e, BookingError::Rule(SlotError::ClosedDay { .. })),
        "{e:?}"
    );
    let soon = now() + Duration::minutes(30);
    let e = shop
        .book(request(jordan.id, None, soon), now())
        .await
        .unwrap_err();
    assert!(
        matches!(e, BookingError::Rule(SlotError::InsideLeadTime { .. })),
        "{e:?}"
    );

    // Second bay, then full.
    shop.book(request(alex.id, None, tue10), now())
        .await
        .unwrap();
    let e = shop
        .book(request(alex.id, None, tue10), now())
        .await
        .unwrap_err();
    assert!(matches!(e, BookingError::SlotTaken), "{e:?}");

    // Jordan moves, then cancels; a cancelled appointment cannot be cancelled or moved again.
    let tue11 = tue10 + Duration::hours(1);
    let moved = shop
        .reschedule(jordan.id, booked.id, tue11, now())
        .await
        .unwrap();
    assert_eq!(
        (moved.start, moved.end),
        (tue11, tue11 + Duration::minutes(30))
    );
    let e = shop
        .reschedule(jordan.id, booked.id, lunch, now())
        .await
        .unwrap_err();
    assert!(matches!(e, BookingError::Rule(_)), "{e:?}");
    let upcoming = shop.upcoming(jordan.id, now()).await.unwrap();
    assert_eq!(
        upcoming.iter().map(|a| a.id).collect::<Vec<_>>(),
        [booked.id]
    );
    let cancelled = shop.cancel(jordan.id, booked.id, now()).await.unwrap();
    assert_eq!(cancelled.status, AppointmentStatus::Cancelled);
    let e = shop.cancel(jordan.id, booked.id, now()).await.unwrap_err();
    assert!(matches!(e, BookingError::NotActive), "{e:?}");
    let e = shop
        .reschedule(jordan.id, booked.id, tue10, now())
        .await
        .unwrap_err();
    assert!(matches!(e, BookingError::NotActive), "{e:?}");
    assert!(shop.upcoming(jordan.id, now()).await.unwrap().is_empty());

    // An appointment already under way cannot be cancelled.
    let alex_appt = shop.upcoming(alex.id, now()).await.unwrap()[0].clone();
    let e = shop
        .cancel(
            alex.id,
            alex_appt.id,
            alex_appt.start + Duration::minutes(5),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, BookingError::NotActive), "{e:?}");
}

pub async fn offered_slots_match_bookable_bays(store: Arc<dyn Store>) {
    let shop = Shop::new(store.clone(), Arc::new(ShopConfig::default()));
    let c = store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap();
    let tue = NaiveDate::from_ymd_opt(2025, 3, 4).unwrap();
    let before = shop
        .free_slots("oil_change", tue, tue, now())
        .await
        .unwrap();
    // 08:00–12:00 and 13:00–18:00, every 30 minutes.
    assert_eq!(before.len(), 18);
    assert!(before.iter().all(|s| s.free_bays == 2));

    // Bay 1: brake job 08:00–10:00. Bay 2: 09:00–09:30 oil change then 10:00 diagnostic.
    let mut brake = request(c.id, None, utc(2025, 3, 4, 13, 0));
    brake.service_id = "brake_service".into();
    assert_eq!(shop.book(brake, now()).await.unwrap().bay, 1);
    assert_eq!(
        shop.book(request(c.id, None, utc(2025, 3, 4, 14, 0)), now())
            .await
            .unwrap()
            .bay,
        2
    );

    let slots = shop
        .free_slots("oil_change", tue, tue, now())
        .await
        .unwrap();
    let at = |h: u32, m: u32| {
        slots
            .iter()
            .find(|s| s.start == utc(2025, 3, 4, h, m))
            .map(|s| s.free_bays)
    };
    assert_eq!(at(13, 0), Some(1));
    assert_eq!(at(14, 0), None, "both bays busy at 09:00 local");
    assert_eq!(at(14, 30), Some(1));
    assert_eq!(at(15, 0), Some(2));

    // Every offered slot can really be booked, and booking takes exactly one bay.
    let diag = shop
        .free_slots("diagnostic", tue, tue, now())
        .await
        .unwrap();
    for s in diag.iter().take(4) {
        let mut r = request(c.id, None, s.start);
        r.service_id = "diagnostic".into();
        shop.book(r, now())
            .await
            .unwrap_or_else(|e| panic!("offered {s:?} but: {e}"));
    }
    let e = shop.free_slots("nope", tue, tue, now()).await.unwrap_err();
    assert!(matches!(e, BookingError::UnknownService(_)), "{e:?}");
    assert!(
        shop.free_slots("oil_change", tue, tue - Duration::days(1), now())
            .await
            .unwrap()
            .is_empty()
    );
}
