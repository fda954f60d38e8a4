//! The SQL of [`crate::staff::StaffStore`], shared by both backends like `sql_store`:
//! `impl_staff_store!` is instantiated for SQLite and PostgreSQL.

macro_rules! staff_cols {
    () => {
        "id, name, role, created_at"
    };
}
macro_rules! audit_cols {
    () => {
        "id, at, staff, action, subject, detail"
    };
}
pub(crate) use {audit_cols, staff_cols};

/// Implements [`crate::staff::StaffStore`] for `$store` over database `$db` (see
/// `impl_sql_store!`).
macro_rules! impl_staff_store {
    ($store:ident, $db:ty) => {
        mod staff_sql {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use otto_core::records::{AuditEntry, Id, StaffMember};
            use sqlx::Row;

            use super::$store;
            use $crate::db_time::DbTime;
            use $crate::error::StoreError;
            use $crate::sql_store::{limit, parse_col};
            use $crate::staff::{
                NewAudit, NewStaff, StaffAccount, StaffSession, StaffStore, valid_staff_name,
            };
            use $crate::store::StoreResult;

            type DbRow = <$db as sqlx::Database>::Row;

            fn member_row(r: &DbRow) -> StoreResult<StaffMember> {
                Ok(StaffMember {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    role: parse_col(r.try_get::<&str, _>("role")?, "staff.role")?,
                    created_at: r.try_get::<DbTime, _>("created_at")?.0,
                })
            }

            fn audit_row(r: &DbRow) -> StoreResult<AuditEntry> {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get::<DbTime, _>("at")?.0,
                    staff: r.try_get("staff")?,
                    action: r.try_get("action")?,
                    subject: r.try_get("subject")?,
                    detail: r.try_get("detail")?,
                })
            }

            #[async_trait]
            impl StaffStore for $store {
                async fn create_staff(&self, new: &NewStaff) -> StoreResult<StaffMember> {
                    if !valid_staff_name(&new.name) {
                        return Err(StoreError::Rejected(
                            "a staff name is 1 to 64 letters, digits, '.', '_' or '-'".into(),
                        ));
                    }
                    let now = DbTime($crate::db_time::now_ms());
                    let row = sqlx::query(concat!(
                        "INSERT INTO staff (name, role, password_hash, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $4) RETURNING ",
                        $crate::sql_staff::staff_cols!()
                    ))
                    .bind(&new.name)
                    .bind(new.role.as_str())
                    .bind(&new.password_hash)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| match StoreError::from(e) {
                        StoreError::Conflict(_) => {
                            StoreError::Conflict(format!("staff name {:?} is taken", new.name))
                        }
                        other => other,
                    })?;
                    member_row(&row)
                }

                async fn staff_account(&self, name: &str) -> StoreResult<Option<StaffAccount>> {
                    sqlx::query(concat!(
                        "SELECT password_hash, ",
                        $crate::sql_staff::staff_cols!(),
                        " FROM staff WHERE name = $1"
                    ))
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| {
                        Ok(StaffAccount {
                            member: member_row(&r)?,
                            password_hash: r.try_get("password_hash")?,
                        })
                    })
                    .transpose()
                }

                async fn set_staff_password(
                    &self,
                    name: &str,
                    password_hash: &str,
                ) -> StoreResult<StaffMember> {
                    let mut tx = self.pool.begin().await?;
                    let row = sqlx::query(concat!(
                        "UPDATE staff SET password_hash = $2, updated_at = $3 WHERE name = $1 \
                         RETURNING ",
                        $crate::sql_staff::staff_cols!()
                    ))
                    .bind(name)
                    .bind(password_hash)
                    .bind(DbTime($crate::db_time::now_ms()))
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::not_found("staff member", name))?;
                    let member = member_row(&row)?;
                    sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1")
                        .bind(member.id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(member)
                }

                async fn list_staff(&self) -> StoreResult<Vec<StaffMember>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ",
                        $crate::sql_staff::staff_cols!(),
                        " FROM staff ORDER BY name"
                    ))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(member_row).collect()
                }

                async fn create_staff_session(
                    &self,
                    token_hash: &str,
                    staff_id: Id,
                    csrf: &str,
                    now: DateTime<Utc>,
                    expires_at: DateTime<Utc>,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO staff_sessions (token_hash, staff_id, csrf, created_at, \
                         expires_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(token_hash)
                    .bind(staff_id)
                    .bind(csrf)
                    .bind(DbTime(now))
                    .bind(DbTime(expires_at))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| match StoreError::from(e) {
                        StoreError::Rejected(_) => {
                            StoreError::Rejected("unknown staff member".into())
                        }
                        other => other,
                    })?;
                    Ok(())
                }

                async fn staff_session(
                    &self,
                    token_hash: &str,
                    now: DateTime<Utc>,
                ) -> StoreResult<Option<StaffSession>> {
                    sqlx::query(
                        "SELECT s.csrf, s.expires_at, m.id, m.name, m.role, m.created_at \
                         FROM staff_sessions s JOIN staff m ON m.id = s.staff_id \
                         WHERE s.token_hash = $1 AND s.expires_at > $2",
                    )
                    .bind(token_hash)
                    .bind(DbTime(now))
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| {
                        Ok(StaffSession {
                            member: member_row(&r)?,
                            csrf: r.try_get("csrf")?,
                            expires_at: r.try_get::<DbTime, _>("expires_at")?.0,
                        })
                    })
                    .transpose()
                }

                async fn end_staff_session(
                    &self,
                    token_hash: &str,
                    now: DateTime<Utc>,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "DELETE FROM staff_sessions WHERE token_hash = $1 OR expires_at <= $2",
                    )
                    .bind(token_hash)
                    .bind(DbTime(now))
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn audit(&self, e: &NewAudit) -> StoreResult<AuditEntry> {
                    let row = sqlx::query(concat!(
                        "INSERT INTO audit_log (at, staff, action, subject, detail) \
                         VALUES ($1, $2, $3, $4, $5) RETURNING ",
                        $crate::sql_staff::audit_cols!()
                    ))
                    .bind(DbTime(e.at))
                    .bind(&e.staff)
                    .bind(&e.action)
                    .bind(&e.subject)
                    .bind(&e.detail)
                    .fetch_one(&self.pool)
                    .await?;
                    audit_row(&row)
                }

                async fn audit_log(&self, lim: u32) -> StoreResult<Vec<AuditEntry>> {
                    let rows = sqlx::query(concat!(
                        "SELECT ",
                        $crate::sql_staff::audit_cols!(),
                        " FROM audit_log ORDER BY at DESC, id DESC LIMIT $1"
                    ))
                    .bind(limit(lim))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(audit_row).collect()
                }
            }
        }
    };
}
pub(crate) use impl_staff_store;
