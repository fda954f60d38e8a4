//! `otto db migrate`, `otto db seed --demo` and `otto db backup FILE`.

use anyhow::bail;
use chrono::Utc;
use otto_shop::seed::{SeedSize, seed_demo};

use super::{open_shop, today};
use crate::cli::DbCommand;
use crate::config::Config;

/// Runs a `db` subcommand.
///
/// # Errors
/// Store errors; `seed` without `--demo`.
pub async fn run(config: &Config, cmd: DbCommand) -> anyhow::Result<()> {
    match cmd {
        DbCommand::Migrate => {
            // Opening the store applies every pending migration.
            let shop = open_shop(config).await?;
            println!(
                "{} database {} is up to date",
                shop.store().backend(),
                crate::config::redact_url_password(&config.database_url())
            );
        }
        DbCommand::Seed {
            demo,
            reset,
            customers,
            appointments,
        } => {
            if !demo {
                bail!("say which data set to seed: `otto db seed --demo`");
            }
            let shop = open_shop(config).await?;
            if reset {
                let n = shop.store().reset_records().await?;
                println!("reset: deleted {n} customers and every call, message and reminder");
            }
            let size = SeedSize {
                customers,
                appointments: appointments.unwrap_or(customers.saturating_mul(3) / 2),
            };
            let report = seed_demo(&shop, size, today(config.shop.time_zone, Utc::now())).await?;
            println!("{report}");
        }
        DbCommand::Backup { file } => {
            let shop = open_shop(config).await?;
            shop.store().backup_to(&file).await?;
            println!("backed up to {}", file.display());
        }
    }
    Ok(())
}
