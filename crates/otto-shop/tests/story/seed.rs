//! The demo seed: deterministic, inside the shop's rules and bay capacity, idempotent.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use otto_core::domain::PhoneNumber;
use otto_core::records::{Appointment, AppointmentStatus};
use otto_core::scheduling;
use otto_core::shop::ShopConfig;
use otto_shop::Shop;
use otto_shop::seed::{DEMO_CUSTOMER_NAME, DEMO_CUSTOMER_PHONE, SeedSize, seed_demo};
use otto_store::Store;

/// Every appointment of every customer, from 60 days before `today`.
async fn all_appointments(store: &Arc<dyn Store>, today: NaiveDate) -> Vec<Appointment> {
    let from = scheduling::local_day_bounds(chrono_tz::America::New_York, today).start
        - Duration::days(60);
    let mut all = Vec::new();
    // Every seeded number contains "555".
    for c in store.search_customers("555", 10_000).await.unwrap() {
        all.extend(store.appointments_of(c.id, from).await.unwrap());
    }
    all.sort_by_key(|a| a.id);
    all
}

pub async fn demo_seed_is_deterministic_valid_and_idempotent(store: Arc<dyn Store>) {
    let config = Arc::new(ShopConfig::default());
    let shop = Shop::new(store.clone(), config.clone());
    let today = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
    let report = seed_demo(&shop, SeedSize::default(), today).await.unwrap();
    assert!(!report.skipped);
    assert_eq!(report.customers, 200);
    assert!((200..=400).contains(&report.vehicles), "{report}");
    assert_eq!(report.appointments, 300);
    assert!(report.service_records > 100, "{report}");
    assert_eq!(store.count_customers().await.unwrap(), 200);

    // The demo customer.
    let jordan = store
        .customer_by_phone(&PhoneNumber::parse(DEMO_CUSTOMER_PHONE).unwrap())
        .await
        .unwrap()
        .expect("demo customer");
    assert_eq!(jordan.name, DEMO_CUSTOMER_NAME);
    let cars = store.vehicles_of(jordan.id).await.unwrap();
    assert_eq!(cars.len(), 1);
    assert_eq!(
        (cars[0].year, cars[0].make.as_str(), cars[0].model.as_str()),
        (2019, "Honda", "Civic")
    );
    assert_eq!(
        cars[0].vin.as_ref().and_then(|v| v.model_year()),
        Some(2019)
    );
    assert_eq!(store.service_history(cars[0].id).await.unwrap().len(), 1);
    assert!(
        store
            .appointments_of(jordan.id, chrono::DateTime::UNIX_EPOCH)
            .await
            .unwrap()
            .is_empty()
    );

    // Every appointment respects the shop's rules and never shares a bay.
    let appts = all_appointments(&store, today).await;
    assert_eq!(appts.len(), 300);
    let today_start = scheduling::local_day_bounds(config.time_zone, today).start;
    let (mut past, mut future) = (0, 0);
    for a in &appts {
        let service = config.service(&a.service).expect("catalog service");
        let interval =
            scheduling::check_bookable(&config, service, a.start, a.start - Duration::days(1))
                .unwrap_or_else(|e| panic!("{a:?} breaks a rule: {e}"));
        assert_eq!(interval.end, a.end);
        assert!((1..=config.bays).contains(&a.bay));
        if a.start < today_start {
            past += 1;
            assert!(matches!(
                a.status,
                AppointmentStatus::Completed | AppointmentStatus::NoShow
            ));
        } else {
            future += 1;
            assert_eq!(a.status, AppointmentStatus::Scheduled);
            assert!(a.start < today_start + Duration::days(16));
        }
        for b in &appts {
            assert!(
                a.id == b.id || a.bay != b.bay || a.end <= b.start || b.end <= a.start,
                "{a:?} and {b:?} share a bay"
            );
        }
    }
    assert!(past > 0 && future > 0, "past {past}, future {future}");

    // Same size and day on another (in-memory SQLite) store: the same shop.
    let other = otto_store::connect("sqlite::memory:").await.unwrap();
    let other_shop = Shop::new(other.clone(), config.clone());
    assert_eq!(
        seed_demo(&other_shop, SeedSize::default(), today)
            .await
            .unwrap(),
        report
    );
    let key = |a: &Appointment| (a.start, a.bay, a.service.clone(), a.status);
    let mine: Vec<_> = appts.iter().map(key).collect();
    let theirs: Vec<_> = all_appointments(&other, today)
        .await
        .iter()
        .map(key)
        .collect();
    assert_eq!(mine, theirs);
    let people = async |s: &Arc<dyn Store>| {
        let mut v: Vec<_> = s
            .search_customers("555", 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.phone, c.name, c.email, c.address))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let mine = people(&store).await;
    assert_eq!(mine.len(), 200);
    assert_eq!(mine, people(&other).await);

    // Idempotent: a second run inserts nothing.
    let again = seed_demo(&shop, SeedSize::default(), today).await.unwrap();
    assert!(again.skipped);
    assert_eq!(store.count_customers().await.unwrap(), 200);
    assert_eq!(all_appointments(&store, today).await.len(), 300);
}
