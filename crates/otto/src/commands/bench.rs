//! `otto bench …`: benchmarks that print measured figures.

use std::sync::Arc;
#[cfg(feature = "bench-calls")]
use std::time::Duration;

use crate::cli::BenchCommand;
use crate::config::Config;

/// Runs a benchmark and prints its report.
///
/// # Errors
/// The benchmark's errors (e.g. a database that is not empty).
pub async fn run(config: &Config, cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Speech => {
            let model = config.whisper_model();
            let report =
                tokio::task::spawn_blocking(move || otto_speech::bench::bench(&model)).await??;
            print!("{report}");
        }
        BenchCommand::Store {
            database_url,
            iterations,
        } => {
            let shop = Arc::new(config.shop.clone());
            let report = match database_url {
                Some(url) => otto_shop::bench::run(&url, shop, iterations).await?,
                None => {
                    let dir = tempfile::tempdir()?;
                    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                    otto_shop::bench::run(&url, shop, iterations).await?
                }
            };
            print!("{report}");
        }
        BenchCommand::Pages { calls, iterations } => {
            print!(
                "{}",
                super::bench_pages::run(config, calls, iterations).await?
            );
        }
        #[cfg(feature = "bench-calls")]
        BenchCommand::Calls {
            concurrency,
            ramp_secs,
            endpointing_ms,
            stt_delay_ms,
            tts_delay_ms,
            batches,
            local,
            early_endpointing_ms,
        } => {
            let calls = concurrency as usize;
            let ramp = ramp_secs.map_or(Duration::from_millis(20) * concurrency, |s| {
                Duration::from_secs(u64::from(s))
            });
            let report = super::bench_calls::run(super::bench_calls::CallBenchOptions {
                calls,
                ramp,
                endpointing_ms,
                stt_delay: Duration::from_millis(u64::from(stt_delay_ms)),
                tts_delay: Duration::from_millis(u64::from(tts_delay_ms)),
                batches: batches as usize,
                local,
                early_endpointing_ms,
            })
            .await?;
            print!("{report}");
        }
        #[cfg(not(feature = "bench-calls"))]
        BenchCommand::Calls { .. } => anyhow::bail!(
            "this build has no call benchmark: build it with `cargo build --release -p otto --features bench-calls`"
        ),
    }
    Ok(())
}
