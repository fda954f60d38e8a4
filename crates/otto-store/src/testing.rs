//! Test support (feature `testing`): fresh databases for each test — a SQLite file in a
//! temporary directory, or (when `OTTO_TEST_DATABASE_URL` is set) a new PostgreSQL database
//! `otto_t_<random>` created through that URL and dropped by [`TestDb::finish`] — and the
//! [`story!`](crate::story) macro that runs one set of test functions on both; small record
//! builders the stories share ([`customer`], [`civic`], [`vin`], [`utc`]).
//!
//! Test code: failures to set up a database panic with a message, as a test should.

use std::sync::Arc;

use rand::Rng;
use sqlx::Connection;

use chrono::{DateTime, TimeZone, Utc};
use otto_core::domain::{Email, PhoneNumber, UsState, Vin};
use otto_core::records::{Address, Id, NewCustomer, NewVehicle};

use crate::Store;

/// For each `module: [tests…]`, generates `sqlite::module::test` and
/// `postgres::module::test`, each running `crate::module::test(store)` (an
/// `Arc<dyn Store>` on a fresh database) in the calling test crate. PostgreSQL tests print a
/// skip line and pass when `OTTO_TEST_DATABASE_URL` is unset.
#[macro_export]
// `crate::` is meant: the tests live in the calling crate.
#[allow(clippy::crate_in_macro_def)]
macro_rules! story {
    ($($module:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        mod sqlite {
            $(mod $module {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        let db = $crate::testing::sqlite().await;
                        crate::$module::$name(db.store.clone()).await;
                        db.finish().await;
                    }
                )*
            })*
        }
        mod postgres {
            $(mod $module {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        let test = concat!(stringify!($module), "::", stringify!($name));
                        let Some(db) = $crate::testing::postgres(test).await else {
                            return;
                        };
                        crate::$module::$name(db.store.clone()).await;
                        db.finish().await;
                    }
                )*
            })*
        }
    };
}

/// A store on a database of its own.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    /// The database's URL (for a server under test to open it too).
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

/// A fresh SQLite file database (pool > 1).
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("otto.db").display());
    let store = crate::connect(&url).await.expect("open sqlite");
    TestDb {
        store,
        url,
        _dir: Some(dir),
        pg: None,
    }
}

/// Whether this is a CI run (`CI=true`), where a test that needs a service must not skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A fresh PostgreSQL database, or `None` (after printing a skip line) when
/// `OTTO_TEST_DATABASE_URL` is unset.
///
/// # Panics
/// When `OTTO_TEST_DATABASE_URL` is unset in CI ([`in_ci`]): a skipped test must not pass there.
pub async fn postgres(test: &str) -> Option<TestDb> {
    let Ok(admin) = std::env::var("OTTO_TEST_DATABASE_URL") else {
        assert!(
            !in_ci(),
            "CI=true but OTTO_TEST_DATABASE_URL is not set: PostgreSQL test {test} cannot run"
        );
        eprintln!("skipping PostgreSQL test {test}: OTTO_TEST_DATABASE_URL is not set");
        return None;
    };
    let name = format!("otto_t_{:016x}", rand::rng().random::<u64>());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect OTTO_TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    conn.close().await.ok();
    let url = with_database(&admin, &name);
    let store = crate::connect(&url).await.expect("open postgres");
    Some(TestDb {
        store,
        url,
        _dir: None,
        pg: Some((admin, name)),
    })
}

impl TestDb {
    /// Drops the PostgreSQL database (SQLite's directory goes with `self`).
    pub async fn finish(mut self) {
        if let Some((admin, name)) = self.pg.take() {
            drop_database(&admin, &name).await;
        }
    }
}

impl Drop for TestDb {
    /// A test that panicked before [`TestDb::finish`] still drops its PostgreSQL database,
    /// from a thread of its own (the test's runtime may be unwinding).
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(drop_database(&admin, &name));
            })
            .join();
        }
    }
}

async fn drop_database(admin: &str, name: &str) {
    let mut conn = sqlx::PgConnection::connect(admin).await.expect("admin");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .expect("drop test database");
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, ""), |(b, q)| (b, q));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    if query.is_empty() {
        format!("{base}/{name}")
    } else {
        format!("{base}/{name}?{query}")
    }
}

/// A customer with a Virginia address.
pub fn customer(name: &str, phone: &str) -> NewCustomer {
    NewCustomer {
        name: name.into(),
        phone: PhoneNumber::parse(phone).expect("test phone"),
        email: Some(Email::parse(&format!("Customer.{}@Example.com", phone.len())).expect("email")),
        address: Some(Address {
            street: "12 Oak Street".into(),
            city: "Springfield".into(),
            state: UsState::parse("VA").expect("state"),
            postal_code: "22150".into(),
        }),
    }
}

/// A 2019 Honda Civic for `customer_id` with `vin` (if any).
pub fn civic(customer_id: Id, vin: Option<&str>) -> NewVehicle {
    NewVehicle {
        customer_id,
        vin: vin.map(|v| Vin::parse(v).expect("test VIN")),
        year: 2019,
        make: "Honda".into(),
        model: "Civic".into(),
        trim: Some("EX".into()),
        mileage: Some(42_000),
        plate: Some("ABC-1234".into()),
    }
}

/// A VIN with a correct check digit built from a 17-character template.
pub fn vin(template: &str) -> String {
    let digit = Vin::check_digit_for(template).expect("template");
    let mut v: Vec<char> = template.chars().collect();
    v[8] = digit;
    v.into_iter().collect()
}

/// A UTC instant.
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid instant")
}
