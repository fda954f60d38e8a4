//! [`RecallLookup`]: how the dialogue asks about safety recalls for a make, model and year.
//!
//! The shell provides an implementation (the NHTSA recalls client in `otto-providers`), or
//! none when recall lookups are disabled. A list per make/model/year is not per VIN, so the
//! dialogue always says recalls *may* apply and should be confirmed by VIN.

/// One recall campaign.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recall {
    /// NHTSA campaign number, e.g. "19V182000".
    pub campaign: String,
    /// Affected component, e.g. "AIR BAGS".
    pub component: String,
    /// Short description, fit to read out.
    pub summary: String,
}

/// Why a recall lookup failed; the dialogue answers "I couldn't check right now".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("recall lookup failed: {0}")]
pub struct RecallError(pub String);

/// Looks up recalls by vehicle (NHTSA `recallsByVehicle`, see shared/protocols/nhtsa.md §4).
#[async_trait::async_trait]
pub trait RecallLookup: Send + Sync + std::fmt::Debug {
    /// Recalls for `make`/`model`/`year` (model year); an empty list when there are none.
    ///
    /// # Errors
    /// [`RecallError`] when the service cannot be reached or answers nonsense.
    async fn recalls(&self, make: &str, model: &str, year: u16)
    -> Result<Vec<Recall>, RecallError>;
}
