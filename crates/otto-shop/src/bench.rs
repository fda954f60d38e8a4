//! The store benchmark behind `otto bench store`: seed a fresh database at
//! [`SeedSize::BENCH`] (10,000 customers, 100,000 appointments), then time the operations a
//! call makes: customer lookup by phone, a week of free slots for one service, and one booking
//! (book, then cancel untimed to keep capacity). Reports p50 and p99 in milliseconds.
//!
//! Timing is wall clock around each awaited call (`std::time::Instant`), on whatever runtime
//! the caller runs; one operation at a time, so the figures are latencies, not throughput.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use otto_core::records::BookingSource;
use otto_core::shop::ShopConfig;
use otto_core::stats::Latency;

use otto_store::StoreError;

use crate::seed::{SeedSize, demo_phone, seed_demo};
use crate::shop::{BookingError, BookingRequest, Shop};

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The database already holds customers; the benchmark needs a fresh one.
    #[error("the benchmark needs an empty database (this one has customers)")]
    NotEmpty,
    /// `iterations` was 0.
    #[error("iterations must be at least 1")]
    NoIterations,
    /// The week after today has no free slot for the first service to book into.
    #[error("no free slot in the coming week to book into")]
    NoFreeSlot,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Booking(#[from] BookingError),
}

/// What [`run`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// "sqlite" or "postgres".
    pub backend: &'static str,
    /// Rows seeded.
    pub customers: u64,
    pub appointments: u64,
    /// Wall-clock time of the seed, in seconds.
    pub seed_secs: f64,
    /// `Store::customer_by_phone` for a random seeded customer.
    pub lookup: Latency,
    /// `Shop::free_slots` for the first catalog service over the 7 days after today.
    pub week_of_slots: Latency,
    /// `Shop::book` of the first free slot (cancelled after each, untimed).
    pub booking: Latency,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "store benchmark on {}: seeded {} customers and {} appointments in {:.1} s",
            self.backend, self.customers, self.appointments, self.seed_secs
        )?;
        for (name, l) in [
            ("customer lookup by phone", self.lookup),
            ("free slots, one week", self.week_of_slots),
            ("booking", self.booking),
        ] {
            writeln!(
                f,
                "  {name:<26} p50 {:>8.3} ms   p99 {:>8.3} ms   ({} runs)",
                l.p50_ms, l.p99_ms, l.samples
            )?;
        }
        Ok(())
    }
}

/// Seeds the empty database at `url` and times `iterations` runs of each operation.
///
/// # Errors
/// [`BenchError::NotEmpty`] unless the database has no customers; [`BenchError::NoIterations`];
/// store and booking errors as they happen.
pub async fn run(
    url: &str,
    config: Arc<ShopConfig>,
    iterations: u32,
) -> Result<BenchReport, BenchError> {
    if iterations == 0 {
        return Err(BenchError::NoIterations);
    }
    let store = otto_store::connect(url).await?;
    if store.count_customers().await? > 0 {
        return Err(BenchError::NotEmpty);
    }
    let shop = Shop::new(store.clone(), config.clone());
    let now = Utc::now();
    let today = now.with_timezone(&config.time_zone).date_naive();
    let started = Instant::now();
    let seeded = seed_demo(&shop, SeedSize::BENCH, today).await?;
    let seed_secs = started.elapsed().as_secs_f64();

    let customers = u32::try_from(seeded.customers).unwrap_or(u32::MAX);
    let mut lookups = Vec::with_capacity(iterations as usize);
    for i in 0..iterations {
        // A spread of customers, not one hot row.
        let phone = demo_phone(i.wrapping_mul(7_919) % customers);
        let t = Instant::now();
        let found = store.customer_by_phone(&phone).await?;
        lookups.push(t.elapsed());
        if found.is_none() {
            return Err(StoreError::not_found("customer", "seeded phone").into());
        }
    }

    let service = config.services[0].id.clone();
    // The seeded week (seeded appointments start tomorrow).
    let (from, to) = (
        today + chrono::Duration::days(1),
        today + chrono::Duration::days(7),
    );
    let mut weeks = Vec::with_capacity(iterations as usize);
    let mut first_slot = None;
    for _ in 0..iterations {
        let t = Instant::now();
        let slots = shop.free_slots(&service, from, to, now).await?;
        weeks.push(t.elapsed());
        first_slot = slots.first().map(|s| s.start);
    }
    let slot = first_slot.ok_or(BenchError::NoFreeSlot)?;

    let demo = store
        .customer_by_phone(&demo_phone(0))
        .await?
        .ok_or_else(|| StoreError::not_found("customer", "demo"))?;
    let mut bookings = Vec::with_capacity(iterations as usize);
    for _ in 0..iterations {
        let request = BookingRequest {
            customer_id: demo.id,
            vehicle_id: None,
            service_id: service.clone(),
            start: slot,
            source: BookingSource::Dashboard,
            notes: None,
        };
        let t = Instant::now();
        let booked = shop.book(request, now).await?;
        bookings.push(t.elapsed());
        shop.cancel(demo.id, booked.id, now).await?;
    }

    Ok(BenchReport {
        backend: store.backend(),
        customers: seeded.customers,
        appointments: seeded.appointments,
        seed_secs,
        lookup: Latency::from_durations(lookups),
        week_of_slots: Latency::from_durations(weeks),
        booking: Latency::from_durations(bookings),
    })
}
