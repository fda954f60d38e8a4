//! [`StaffStore`]: the staff side's records: staff accounts (argon2 hashes, never passwords),
//! their sign-in sessions (by the SHA-256 of the cookie token) and the audit log of staff writes.
//! Every [`crate::Store`] is also a `StaffStore`; the SQL lives in `sql_staff`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use otto_core::records::{AuditEntry, Id, StaffMember, StaffRole};

use crate::store::StoreResult;

/// A staff account to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaff {
    /// 1..=64 characters of ASCII letters, digits, `.`, `_` and `-`.
    pub name: String,
    pub role: StaffRole,
    /// A PHC string (argon2id), made by the caller; never a password.
    pub password_hash: String,
}

/// A staff account with its password hash, for signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    pub member: StaffMember,
    /// PHC string.
    pub password_hash: String,
}

/// A signed-in browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    pub member: StaffMember,
    /// The token every form of this session carries (CSRF).
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

/// A staff write to record in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    pub at: DateTime<Utc>,
    pub staff: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

/// Whether `name` is a valid staff sign-in name (see [`NewStaff::name`]).
pub fn valid_staff_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Staff accounts, sessions and the audit log. Errors as for [`crate::Store`].
#[async_trait]
pub trait StaffStore: Send + Sync {
    /// Creates an account. [`crate::StoreError::Conflict`] when the name is taken;
    /// [`crate::StoreError::Rejected`] for an invalid name.
    async fn create_staff(&self, new: &NewStaff) -> StoreResult<StaffMember>;
    /// The account named `name`, with its hash.
    async fn staff_account(&self, name: &str) -> StoreResult<Option<StaffAccount>>;
    /// Replaces an account's password hash and ends all its sessions.
    /// [`crate::StoreError::NotFound`].
    async fn set_staff_password(&self, name: &str, password_hash: &str)
    -> StoreResult<StaffMember>;
    /// Every account, by name.
    async fn list_staff(&self) -> StoreResult<Vec<StaffMember>>;
    /// Starts a session for `staff_id` until `expires_at`. `token_hash` is the hex SHA-256 of
    /// the cookie's token. [`crate::StoreError::Rejected`] for an unknown account.
    async fn create_staff_session(
        &self,
        token_hash: &str,
        staff_id: Id,
        csrf: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The session with this token hash, unless it expired by `now`.
    async fn staff_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<StaffSession>>;
    /// Ends a session (signing out); ending a missing one is not an error. Also deletes every
    /// session that expired before `now`.
    async fn end_staff_session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Records a staff write.
    async fn audit(&self, entry: &NewAudit) -> StoreResult<AuditEntry>;
    /// The audit log, newest first, at most `limit` (capped at 10,000).
    async fn audit_log(&self, limit: u32) -> StoreResult<Vec<AuditEntry>>;
}
