//! Fresh databases for each test: a SQLite file in a temporary directory, or (when
//! `OTTO_TEST_DATABASE_URL` is set) a new PostgreSQL database `otto_t_<random>` created through
//! that URL and dropped by [`TestDb::finish`].

use std::sync::Arc;

use otto_store::Store;
use rand::Rng;
use sqlx::Connection;

/// A store on a database of its own.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

/// A fresh SQLite file database (pool > 1).
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("otto.db").display());
    let store = otto_store::connect(&url).await.expect("open sqlite");
    TestDb {
        store,
        _dir: Some(dir),
        pg: None,
    }
}

/// A fresh PostgreSQL database, or `None` (after printing a skip line) when
/// `OTTO_TEST_DATABASE_URL` is unset.
pub async fn postgres(test: &str) -> Option<TestDb> {
    let Ok(admin) = std::env::var("OTTO_TEST_DATABASE_URL") else {
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
    let store = otto_store::connect(&url).await.expect("open postgres");
    Some(TestDb {
        store,
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
