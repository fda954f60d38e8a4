//! Runs the store benchmark ([`otto_shop::bench::run`]) against a fresh database and prints
//! the figures: `cargo run -p otto-shop --example store_bench -- [DATABASE_URL] [ITERATIONS]`.
//! Without a URL it uses a new SQLite file in a temporary directory. The lead's
//! `otto bench store` calls the same function.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use otto_core::shop::ShopConfig;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = tempfile::tempdir()?;
    let url = args
        .next()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let iterations: u32 = args.next().map_or(Ok(1000), |n| n.parse())?;
    let report = otto_shop::bench::run(&url, Arc::new(ShopConfig::default()), iterations).await?;
    print!("{report}");
    Ok(())
}
