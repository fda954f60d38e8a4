//! Results: [`ScenarioResult`] per scenario and [`Report`], the sums per category and per
//! style printed by `otto eval`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::scenario::Scenario;

/// How one scenario went.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub id: String,
    pub category: String,
    pub style: String,
    /// Every check passed.
    pub passed: bool,
    /// What failed, one line each.
    pub failures: Vec<String>,
    /// An appointment was created, moved or cancelled that should not have been (or before a
    /// confirmed read-back).
    pub wrong_write: bool,
    /// Another customer's record was revealed or changed.
    pub leak: bool,
    /// Caller lines sent.
    pub turns: usize,
    /// The scenario expects a booking.
    pub books: bool,
    /// "Otto: …" / "Caller: …" lines.
    pub transcript: Vec<String>,
}

impl ScenarioResult {
    /// A scenario whose setup could not be played.
    pub(super) fn broken(s: &Scenario, why: String) -> Self {
        Self {
            id: s.id.clone(),
            category: s.category.clone(),
            style: s.style.clone(),
            passed: false,
            failures: vec![format!("could not play: {why}")],
            wrong_write: false,
            leak: false,
            turns: 0,
            books: false,
            transcript: Vec::new(),
        }
    }
}

/// The sums over a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenarios: usize,
    pub passed: usize,
    /// Passed share, 0..=100.
    pub success_pct: f64,
    /// Scenarios with a wrong write.
    pub wrong_writes: usize,
    /// Scenarios with a leak.
    pub leaks: usize,
    /// Mean caller lines in passed scenarios that book; `None` when there are none.
    pub mean_booking_turns: Option<f64>,
    /// (passed, total) per category.
    pub by_category: BTreeMap<String, (usize, usize)>,
    /// (passed, total) per style.
    pub by_style: BTreeMap<String, (usize, usize)>,
}

impl Report {
    /// Sums `results`.
    pub fn new(results: &[ScenarioResult]) -> Self {
        let mut by_category: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut by_style: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for r in results {
            for (map, key) in [(&mut by_category, &r.category), (&mut by_style, &r.style)] {
                let e = map.entry(key.clone()).or_default();
                e.0 += usize::from(r.passed);
                e.1 += 1;
            }
        }
        let passed = results.iter().filter(|r| r.passed).count();
        let booking: Vec<usize> = results
            .iter()
            .filter(|r| r.passed && r.books)
            .map(|r| r.turns)
            .collect();
        Self {
            scenarios: results.len(),
            passed,
            success_pct: pct(passed, results.len()),
            wrong_writes: results.iter().filter(|r| r.wrong_write).count(),
            leaks: results.iter().filter(|r| r.leak).count(),
            mean_booking_turns: (!booking.is_empty())
                .then(|| booking.iter().sum::<usize>() as f64 / booking.len() as f64),
            by_category,
            by_style,
        }
    }
}

fn pct(n: usize, of: usize) -> f64 {
    if of == 0 {
        0.0
    } else {
        100.0 * n as f64 / of as f64
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<20} {:>7} {:>7}", "category", "passed", "success")?;
        for (k, (p, n)) in &self.by_category {
            writeln!(f, "{k:<20} {:>3}/{:<3} {:>6.1}%", p, n, pct(*p, *n))?;
        }
        writeln!(f)?;
        for (k, (p, n)) in &self.by_style {
            writeln!(f, "{k:<20} {:>3}/{:<3} {:>6.1}%", p, n, pct(*p, *n))?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "overall              {:>3}/{:<3} {:>6.1}%",
            self.passed, self.scenarios, self.success_pct
        )?;
        writeln!(f, "wrong writes         {}", self.wrong_writes)?;
        writeln!(f, "leaks                {}", self.leaks)?;
        match self.mean_booking_turns {
            Some(t) => writeln!(f, "mean caller turns to book  {t:.2}")?,
            None => writeln!(f, "mean caller turns to book  -")?,
        }
        writeln!(
            f,
            "eval: {} passed, {} failed",
            self.passed,
            self.scenarios - self.passed
        )
    }
}
