//! The shop's calendar closes the shop (or takes one bay) while it is busy; an unavailable
//! calendar does not.

use std::sync::Arc;

use chrono::Duration;
use otto_core::calendar::{BusyEffect, Calendar, CalendarError};
use otto_core::records::BookingSource;
use otto_core::scheduling::Interval;
use otto_core::shop::ShopConfig;
use otto_shop::{BookingError, BookingRequest, Shop};
use otto_store::Store;
use otto_store::testing::{customer, utc};

/// A calendar with fixed busy blocks, or one that always fails.
#[derive(Debug)]
enum TestCalendar {
    Busy(Vec<Interval>),
    Down,
}

#[async_trait::async_trait]
impl Calendar for TestCalendar {
    async fn busy(&self, window: &Interval) -> Result<Vec<Interval>, CalendarError> {
        match self {
            Self::Busy(blocks) => Ok(blocks
                .iter()
                .filter(|b| b.overlaps(window))
                .copied()
                .collect()),
            Self::Down => Err(CalendarError {
                message: "timed out".into(),
                retryable: true,
            }),
        }
    }
}

/// Monday 3 March 2025, 08:00 in New York (EST, UTC−5).
fn now() -> chrono::DateTime<chrono::Utc> {
    utc(2025, 3, 3, 13, 0)
}

fn oil_change(customer_id: i64, start: chrono::DateTime<chrono::Utc>) -> BookingRequest {
    BookingRequest {
        customer_id,
        vehicle_id: None,
        service_id: "oil_change".into(),
        start,
        source: BookingSource::Phone,
        notes: None,
    }
}

pub async fn busy_blocks_are_neither_offered_nor_booked(store: Arc<dyn Store>) {
    // Tuesday 4 March, 10:00–11:00 EST is busy in the shop's calendar.
    let block = Interval {
        start: utc(2025, 3, 4, 15, 0),
        end: utc(2025, 3, 4, 16, 0),
    };
    let shop = Shop::new(store.clone(), Arc::new(ShopConfig::default())).with_calendar(
        Arc::new(TestCalendar::Busy(vec![block])),
        BusyEffect::CloseShop,
    );
    let jordan = store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2025, 3, 4).unwrap();
    let slots = shop
        .free_slots("oil_change", day, day, now())
        .await
        .unwrap();
    assert!(!slots.is_empty());
    assert!(
        slots.iter().all(|s| !(Interval {
            start: s.start,
            end: s.end
        })
        .overlaps(&block)),
        "a busy block was offered: {slots:?}"
    );
    // 09:30–10:00 ends as the block starts, 11:00 starts as it ends: both offered.
    assert!(slots.iter().any(|s| s.end == block.start));
    assert!(slots.iter().any(|s| s.start == block.end));

    let e = shop
        .book(
            oil_change(jordan.id, block.start + Duration::minutes(30)),
            now(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, BookingError::SlotTaken), "{e:?}");
    shop.book(oil_change(jordan.id, block.end), now())
        .await
        .unwrap();
}

pub async fn an_unavailable_calendar_leaves_the_shop_open(store: Arc<dyn Store>) {
    let shop = Shop::new(store.clone(), Arc::new(ShopConfig::default()))
        .with_calendar(Arc::new(TestCalendar::Down), BusyEffect::CloseShop);
    let jordan = store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2025, 3, 4).unwrap();
    let without = Shop::new(store.clone(), Arc::new(ShopConfig::default()))
        .free_slots("oil_change", day, day, now())
        .await
        .unwrap();
    let with_down = shop
        .free_slots("oil_change", day, day, now())
        .await
        .unwrap();
    assert_eq!(with_down, without);
    shop.book(oil_change(jordan.id, utc(2025, 3, 4, 15, 0)), now())
        .await
        .unwrap();
}

pub async fn a_busy_block_takes_one_bay_when_so_configured(store: Arc<dyn Store>) {
    // Tuesday 10 March 2026, the first week of daylight time in New York (EDT, UTC−4):
    // 10:00–11:00 local is 14:00–15:00 UTC. The default shop has 2 bays.
    let now = utc(2026, 3, 9, 13, 0);
    let block = Interval {
        start: utc(2026, 3, 10, 14, 0),
        end: utc(2026, 3, 10, 15, 0),
    };
    let shop = Shop::new(store.clone(), Arc::new(ShopConfig::default())).with_calendar(
        Arc::new(TestCalendar::Busy(vec![block])),
        BusyEffect::OneBay,
    );
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    let during = |slots: &[otto_core::scheduling::Slot]| {
        slots
            .iter()
            .find(|s| s.start == block.start)
            .map(|s| s.free_bays)
    };
    let slots = shop.free_slots("oil_change", day, day, now).await.unwrap();
    assert_eq!(
        during(&slots),
        Some(1),
        "one bay left at 10:00 EDT: {slots:?}"
    );

    let a = store
        .create_customer(&customer("Ann Lee", "555-555-0101"))
        .await
        .unwrap();
    let b = store
        .create_customer(&customer("Bo Chen", "555-555-0102"))
        .await
        .unwrap();
    shop.book(oil_change(a.id, block.start), now).await.unwrap();
    let slots = shop.free_slots("oil_change", day, day, now).await.unwrap();
    assert_eq!(during(&slots), None, "the block and Ann take both bays");
    let e = shop
        .book(oil_change(b.id, block.start), now)
        .await
        .unwrap_err();
    assert!(matches!(e, BookingError::SlotTaken), "{e:?}");
    // Closing the shop instead, the same block leaves nothing at 10:00.
    let closed = Shop::new(store.clone(), Arc::new(ShopConfig::default())).with_calendar(
        Arc::new(TestCalendar::Busy(vec![block])),
        BusyEffect::CloseShop,
    );
    let e = closed
        .book(oil_change(b.id, block.start + Duration::minutes(30)), now)
        .await
        .unwrap_err();
    assert!(matches!(e, BookingError::SlotTaken), "{e:?}");
}
