//! `otto eval`: scenario tests for the dialogue, part of the product. A scenario (one JSON
//! object per line, the format in `evals/README.md`) gives the time of the call, the caller
//! ID, records to create first, the caller's lines and the outcomes expected in the database
//! afterwards. [`run`] plays every scenario against a fresh in-memory shop and checks it;
//! [`Report`] sums the results per category and per style.
//!
//! - [`scenario`]: the scenario format and its validation ([`load`]).
//! - `play`: one conversation, with a snapshot of the appointments after every line.
//! - `check`: the expectations, and the checks every scenario gets (no wrong write, no
//!   leak, no write before a confirmed read-back).
//! - [`report`]: per-category and per-style success, wrong writes, leaks, turns.

mod check;
mod play;
pub mod report;
pub mod scenario;

use std::sync::Arc;

use futures_util::StreamExt;
use otto_core::shop::ShopConfig;

use crate::dialogue::Dialogue;
pub use report::{Report, ScenarioResult};
pub use scenario::{EvalError, Scenario, load};

/// Makes the dialogue each scenario talks to; `None` means the rule-based dialogue.
pub type DialogueFactory = Arc<dyn Fn() -> Option<Box<dyn Dialogue>> + Send + Sync>;

/// Scenarios played at the same time (each on its own in-memory database).
const CONCURRENCY: usize = 4;

/// Plays every scenario against `shop` (the shop's configuration; each scenario gets a fresh
/// in-memory database) with the dialogue `dialogue` makes, and checks the outcomes. Results
/// come back in the scenarios' order.
pub async fn run(
    scenarios: &[Scenario],
    shop: &ShopConfig,
    dialogue: DialogueFactory,
) -> Vec<ScenarioResult> {
    let shop = Arc::new(shop.clone());
    futures_util::stream::iter(scenarios.iter())
        .map(|s| {
            let shop = shop.clone();
            let dialogue = dialogue.clone();
            async move {
                match play::play(s, shop, dialogue()).await {
                    Ok(played) => check::check(s, &played).await,
                    Err(e) => ScenarioResult::broken(s, e.to_string()),
                }
            }
        })
        .buffered(CONCURRENCY)
        .collect()
        .await
}
