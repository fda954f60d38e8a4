//! [`StoreError`]: the one error type of the store layer, and the mapping from `sqlx` errors.
//!
//! Database constraint violations are classified (unique → [`StoreError::Conflict`]; check,
//! not-null, foreign key and out-of-range values → [`StoreError::Rejected`]) so callers can
//! answer "that phone number is already registered" instead of "database error". Messages never
//! contain the offending values (phone numbers, names), only which rule was broken.

use otto_core::records::Id;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL has an unsupported scheme. The URL itself is not repeated (it may hold
    /// a password).
    #[error("unsupported database URL: expected sqlite:<path>, sqlite::memory: or postgres://…")]
    UnsupportedUrl,
    /// No record of kind `what` has this id (or, for calls, this call SID).
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// A unique rule was broken, e.g. a second customer with the same phone number or a second
    /// vehicle with the same VIN. The message names the rule.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database refused the values: a CHECK (e.g. model year outside 1900..=2100, end not
    /// after start), NOT NULL or foreign-key rule (a referenced record does not exist).
    #[error("rejected by the database: {0}")]
    Rejected(String),
    /// Booking or rescheduling found no bay free for the whole requested interval.
    #[error("no bay is free for the whole requested time")]
    SlotTaken,
    /// The appointment is cancelled, completed or a no-show, so it cannot change any more.
    #[error("appointment {0} is no longer active")]
    NotActive(Id),
    /// A worker finished or retried job `0` after its lease ran out and another worker (or
    /// nobody) holds it now: nothing was changed.
    #[error("job {0} is no longer leased to this worker")]
    LeaseLost(Id),
    /// A stored value does not parse back into its domain type (e.g. an invalid phone number
    /// written by another tool). Nothing is returned for such a row.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Running the migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database or connection error (timeouts, I/O, protocol).
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl StoreError {
    /// [`StoreError::NotFound`] for the record kind `what` ("customer", …) and its id.
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    /// Classifies constraint violations; everything else is [`StoreError::Database`].
    fn from(e: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        match &e {
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation => Self::Conflict(constraint_of(db.as_ref())),
                ErrorKind::ForeignKeyViolation => Self::Rejected(format!(
                    "refers to a record that does not exist ({})",
                    constraint_of(db.as_ref())
                )),
                ErrorKind::CheckViolation | ErrorKind::NotNullViolation => {
                    Self::Rejected(constraint_of(db.as_ref()))
                }
                // SQLSTATE class 22, "data exception" (PostgreSQL): a value the column type
                // cannot hold, e.g. an instant outside TIMESTAMPTZ's range.
                _ if db
                    .code()
                    .is_some_and(|c| c.len() == 5 && c.starts_with("22")) =>
                {
                    Self::Rejected(db.message().to_string())
                }
                _ => Self::Database(e),
            },
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                Self::Corrupt(e.to_string())
            }
            _ => Self::Database(e),
        }
    }
}

/// The violated constraint: PostgreSQL names it; SQLite's message names it ("UNIQUE constraint
/// failed: customers.phone"). Neither includes the offending values.
fn constraint_of(db: &dyn sqlx::error::DatabaseError) -> String {
    match db.constraint() {
        Some(name) => name.to_string(),
        None => db.message().to_string(),
    }
}
