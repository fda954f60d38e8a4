//! `otto eval SCENARIOS.jsonl… [--dialogue rules|llm]`: plays dialogue scenarios against a
//! fresh in-memory shop each and reports success per category and style (see
//! `otto_agent::eval` and `evals/README.md`).

use std::sync::Arc;

use anyhow::{Context, bail};
use otto_agent::eval::{self, DialogueFactory, Report};

use crate::call::LlmFactory;
use crate::cli::{EvalArgs, EvalDialogue};
use crate::config::Config;

/// Runs the scenarios and prints the report.
///
/// # Errors
/// Unreadable or invalid scenario files (file, line, scenario and field named); `--dialogue
/// llm` without an `llm` section; success below `--min-success`, or more wrong writes or
/// leaks than `--max-wrong-writes` / `--max-leaks` allow.
pub async fn run(config: &Config, args: EvalArgs) -> anyhow::Result<()> {
    let scenarios = eval::load(&args.files, &config.shop)?;
    let factory: DialogueFactory = match args.dialogue {
        EvalDialogue::Rules => Arc::new(|| None),
        EvalDialogue::Llm => {
            let llm = Arc::new(
                LlmFactory::from_config(config)?
                    .context("--dialogue llm needs an [llm] section in the configuration")?,
            );
            Arc::new(move || Some(llm.dialogue()))
        }
    };
    let results = eval::run(&scenarios, &config.shop, factory).await;
    if args.verbose {
        for r in results.iter().filter(|r| !r.passed) {
            println!("FAILED {} ({}, {})", r.id, r.category, r.style);
            for f in &r.failures {
                println!("  - {f}");
            }
            for line in &r.transcript {
                println!("    {line}");
            }
            println!();
        }
    }
    let report = Report::new(&results);
    print!("{report}");
    if let Some(path) = &args.json {
        let body = serde_json::json!({ "report": report, "results": results });
        std::fs::write(path, serde_json::to_vec_pretty(&body)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if report.success_pct < args.min_success {
        bail!(
            "success {:.1}% is below --min-success {:.1}%",
            report.success_pct,
            args.min_success
        );
    }
    if args
        .max_wrong_writes
        .is_some_and(|m| report.wrong_writes > m)
    {
        bail!("{} scenarios made a wrong write", report.wrong_writes);
    }
    if args.max_leaks.is_some_and(|m| report.leaks > m) {
        bail!(
            "{} scenarios leaked another customer's records",
            report.leaks
        );
    }
    Ok(())
}
