//! Customers, vehicles, service history and migrations, with their database constraints.

use std::sync::Arc;

use chrono::NaiveDate;
use otto_core::domain::PhoneNumber;
use otto_store::{NewServiceRecord, Store, StoreError};

use otto_store::testing::{civic, customer, vin};

pub async fn customers_round_trip_and_phone_is_unique(store: Arc<dyn Store>) {
    let new = customer("Jordan Smith", "+1 (555) 555-0123");
    let created = store.create_customer(&new).await.unwrap();
    assert_eq!(created.name, "Jordan Smith");
    assert_eq!(created.phone.as_str(), "+15555550123");
    assert_eq!(created.address, new.address);
    assert_eq!(created.email, new.email);
    assert_eq!(created.created_at, created.updated_at);

    let by_phone = store.customer_by_phone(&new.phone).await.unwrap();
    assert_eq!(by_phone.as_ref(), Some(&created));
    assert_eq!(
        store.customer(created.id).await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(store.customer(created.id + 1000).await.unwrap(), None);
    let other = PhoneNumber::parse("5555550199").unwrap();
    assert_eq!(store.customer_by_phone(&other).await.unwrap(), None);

    let dup = store
        .create_customer(&customer("Someone Else", "555-555-0123"))
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(_)), "{dup:?}");
    assert!(!dup.to_string().contains("0123"), "no phone in: {dup}");

    let second = store
        .create_customer(&customer("Alex Diaz", "555-555-0177"))
        .await
        .unwrap();
    assert_eq!(store.count_customers().await.unwrap(), 2);

    let mut changed = new.clone();
    changed.name = "Jordan A. Smith".into();
    changed.address = None;
    let updated = store.update_customer(created.id, &changed).await.unwrap();
    assert_eq!(updated.name, "Jordan A. Smith");
    assert_eq!(updated.address, None);
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at >= created.updated_at);

    changed.phone = second.phone.clone();
    let taken = store
        .update_customer(created.id, &changed)
        .await
        .unwrap_err();
    assert!(matches!(taken, StoreError::Conflict(_)), "{taken:?}");
    let missing = store.update_customer(9999, &new).await.unwrap_err();
    assert!(
        matches!(missing, StoreError::NotFound { .. }),
        "{missing:?}"
    );

    let blank = store
        .create_customer(&customer("   ", "555-555-0188"))
        .await
        .unwrap_err();
    assert!(matches!(blank, StoreError::Rejected(_)), "{blank:?}");
    assert_eq!(store.count_customers().await.unwrap(), 2);
}

pub async fn customer_search_by_name_or_phone_digits(store: Arc<dyn Store>) {
    for (name, phone) in [
        ("Jordan Smith", "555-555-0123"),
        ("Maria Smithson", "555-555-0142"),
        ("Sam Lee", "703-555-0199"),
        ("100% Fleet_Co", "703-555-0100"),
    ] {
        store.create_customer(&customer(name, phone)).await.unwrap();
    }
    let names = |v: Vec<otto_core::records::Customer>| -> Vec<String> {
        v.into_iter().map(|c| c.name).collect()
    };
    assert_eq!(
        names(store.search_customers("SMITH", 10).await.unwrap()),
        ["Jordan Smith", "Maria Smithson"]
    );
    assert_eq!(
        names(store.search_customers("0199", 10).await.unwrap()),
        ["Sam Lee"]
    );
    assert_eq!(
        names(store.search_customers("(703) 555", 10).await.unwrap()),
        ["100% Fleet_Co", "Sam Lee"]
    );
    // LIKE wildcards in the text are literal.
    assert_eq!(
        names(store.search_customers("0%", 10).await.unwrap()),
        ["100% Fleet_Co"]
    );
    assert_eq!(
        names(store.search_customers("_", 10).await.unwrap()),
        ["100% Fleet_Co"]
    );
    assert_eq!(store.search_customers("smith", 1).await.unwrap().len(), 1);
    assert!(store.search_customers("  ", 10).await.unwrap().is_empty());
    assert!(store.search_customers("zzz", 10).await.unwrap().is_empty());

    // By a vehicle's VIN, or its last few characters, in any case.
    let sam = store
        .search_customers("Sam Lee", 1)
        .await
        .unwrap()
        .remove(0);
    let vin = otto_store::testing::vin("2HGFC2F5XKH000777");
    store
        .add_vehicle(&otto_store::testing::civic(sam.id, Some(&vin)))
        .await
        .unwrap();
    assert_eq!(
        names(store.search_customers(&vin, 10).await.unwrap()),
        ["Sam Lee"]
    );
    assert_eq!(
        names(store.search_customers("kh000777", 10).await.unwrap()),
        ["Sam Lee"]
    );
}

pub async fn vehicles_enforce_vin_year_and_owner(store: Arc<dyn Store>) {
    let owner = store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap();
    let vin1 = vin("2HGFC2F50KH000001");
    let car = store
        .add_vehicle(&civic(owner.id, Some(&vin1)))
        .await
        .unwrap();
    assert_eq!(car.vin.as_ref().map(|v| v.as_str()), Some(vin1.as_str()));
    assert_eq!((car.year, car.mileage), (2019, Some(42_000)));
    assert_eq!(store.vehicle(car.id).await.unwrap(), Some(car.clone()));

    let dup = store
        .add_vehicle(&civic(owner.id, Some(&vin1)))
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(_)), "{dup:?}");

    // Vehicles without a VIN do not collide.
    let later = store.add_vehicle(&civic(owner.id, None)).await.unwrap();
    store.add_vehicle(&civic(owner.id, None)).await.unwrap();

    // A VIN read out later is recorded once, never over another, never twice.
    let taken = otto_core::domain::Vin::parse(&vin1).unwrap();
    let e = store.set_vehicle_vin(later.id, &taken).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    let vin2 = otto_core::domain::Vin::parse(&vin("1HGCV1F30LA060213")).unwrap();
    let set = store.set_vehicle_vin(later.id, &vin2).await.unwrap();
    assert_eq!(set.vin, Some(vin2.clone()));
    let e = store.set_vehicle_vin(later.id, &vin2).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
    let e = store.set_vehicle_vin(car.id, &vin2).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");

    let mut old = civic(owner.id, None);
    old.year = 1899;
    let e = store.add_vehicle(&old).await.unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)), "{e:?}");
    old.year = 2101;
    let e = store.add_vehicle(&old).await.unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)), "{e:?}");

    let orphan = store
        .add_vehicle(&civic(owner.id + 99, None))
        .await
        .unwrap_err();
    assert!(matches!(orphan, StoreError::Rejected(_)), "{orphan:?}");

    let list = store.vehicles_of(owner.id).await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0], car);
    assert_eq!(list[1], set);
    assert!(store.vehicles_of(owner.id + 1).await.unwrap().is_empty());
}

pub async fn service_history_newest_first_and_checked(store: Arc<dyn Store>) {
    let owner = store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap();
    let car = store.add_vehicle(&civic(owner.id, None)).await.unwrap();
    let record = |d: u32, cents: i64| NewServiceRecord {
        vehicle_id: car.id,
        date: NaiveDate::from_ymd_opt(2024, 5, d).unwrap(),
        mileage: Some(30_000 + d),
        work: format!("oil change {d}"),
        cost_cents: cents,
    };
    let first = store.add_service_record(&record(1, 6_900)).await.unwrap();
    assert_eq!(first.date, NaiveDate::from_ymd_opt(2024, 5, 1).unwrap());
    assert_eq!(first.cost_cents, 6_900);
    store.add_service_record(&record(20, 7_900)).await.unwrap();
    store.add_service_record(&record(9, 4_900)).await.unwrap();
    let history = store.service_history(car.id).await.unwrap();
    let days: Vec<String> = history.iter().map(|r| r.work.clone()).collect();
    assert_eq!(days, ["oil change 20", "oil change 9", "oil change 1"]);

    let e = store.add_service_record(&record(2, -1)).await.unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)), "{e:?}");
    let mut orphan = record(3, 100);
    orphan.vehicle_id = car.id + 50;
    let e = store.add_service_record(&orphan).await.unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)), "{e:?}");
}

pub async fn migrations_are_idempotent(store: Arc<dyn Store>) {
    store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.count_customers().await.unwrap(), 1);
}
