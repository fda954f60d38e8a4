//! Staff accounts, sign-in sessions and the audit log.

use std::sync::Arc;

use chrono::Duration;
use otto_core::records::StaffRole;
use otto_store::testing::utc;
use otto_store::{NewAudit, NewStaff, Store, StoreError};

fn staff(name: &str, role: StaffRole) -> NewStaff {
    NewStaff {
        name: name.into(),
        role,
        password_hash: format!("$argon2id$fake${name}"),
    }
}

pub async fn staff_accounts_sessions_and_audit(store: Arc<dyn Store>) {
    let owner = store
        .create_staff(&staff("otto", StaffRole::Owner))
        .await
        .unwrap();
    assert_eq!(owner.role, StaffRole::Owner);
    let desk = store
        .create_staff(&staff("front-desk", StaffRole::Staff))
        .await
        .unwrap();
    let e = store
        .create_staff(&staff("otto", StaffRole::Staff))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    for bad in ["", "has space", "semi;colon", &"x".repeat(65)] {
        let e = store
            .create_staff(&staff(bad, StaffRole::Staff))
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Rejected(_)), "{bad:?}: {e:?}");
    }
    let names: Vec<String> = store
        .list_staff()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["front-desk", "otto"]);
    let account = store.staff_account("otto").await.unwrap().unwrap();
    assert_eq!(account.member, owner);
    assert_eq!(account.password_hash, "$argon2id$fake$otto");
    assert_eq!(store.staff_account("nobody").await.unwrap(), None);

    // Sessions: found until they expire; ended by sign-out and by a password change.
    let now = utc(2030, 3, 5, 15, 0);
    let later = now + Duration::hours(12);
    for (token, who) in [
        ("t-owner", owner.id),
        ("t-desk", desk.id),
        ("t-desk2", desk.id),
    ] {
        store
            .create_staff_session(token, who, "csrf-1", now, later)
            .await
            .unwrap();
    }
    let session = store.staff_session("t-owner", now).await.unwrap().unwrap();
    assert_eq!(session.member, owner);
    assert_eq!(session.csrf, "csrf-1");
    assert_eq!(store.staff_session("t-owner", later).await.unwrap(), None);
    assert_eq!(store.staff_session("missing", now).await.unwrap(), None);
    let e = store
        .create_staff_session("t-x", 9999, "c", now, later)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)), "{e:?}");
    store.end_staff_session("t-owner", now).await.unwrap();
    assert_eq!(store.staff_session("t-owner", now).await.unwrap(), None);
    assert!(store.staff_session("t-desk", now).await.unwrap().is_some());
    store
        .set_staff_password("front-desk", "$argon2id$new")
        .await
        .unwrap();
    assert_eq!(store.staff_session("t-desk", now).await.unwrap(), None);
    assert_eq!(store.staff_session("t-desk2", now).await.unwrap(), None);
    assert_eq!(
        store
            .staff_account("front-desk")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$new"
    );
    let e = store.set_staff_password("nobody", "h").await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");

    // The audit log, newest first.
    for (minute, action) in [(1, "appointment.move"), (2, "appointment.cancel")] {
        store
            .audit(&NewAudit {
                at: utc(2030, 3, 5, 15, minute),
                staff: "otto".into(),
                action: action.into(),
                subject: "appointment #1".into(),
                detail: "Tue 9:00 AM → Wed 10:00 AM".into(),
            })
            .await
            .unwrap();
    }
    let log = store.audit_log(10).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["appointment.cancel", "appointment.move"]);
    assert_eq!(store.audit_log(1).await.unwrap().len(), 1);
}
