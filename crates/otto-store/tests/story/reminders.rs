//! Reminders: the confirmation a booking gets in its own transaction, moves and cancellations
//! that cancel what is pending, guarded state changes, opt-outs and SMS threads.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use otto_core::domain::PhoneNumber;
use otto_core::records::{
    AppointmentStatus, BookingSource, REMINDER_JOB, ReminderChannel, ReminderKind, ReminderStatus,
};
use otto_store::testing::{customer, utc};
use otto_store::{
    NewAppointment, NewReminder, ReminderChange, ReminderQuery, Store, StoreError, reminder_job_key,
};

async fn book_one(store: &Arc<dyn Store>, hour: u32) -> otto_core::records::Appointment {
    let owner = match store
        .customer_by_phone(&PhoneNumber::parse("555-555-0123").unwrap())
        .await
        .unwrap()
    {
        Some(c) => c,
        None => store
            .create_customer(&customer("Jordan Smith", "555-555-0123"))
            .await
            .unwrap(),
    };
    let start = utc(2030, 3, 6, hour, 0);
    store
        .book(
            &NewAppointment {
                customer_id: owner.id,
                vehicle_id: None,
                service: "oil_change".into(),
                start,
                end: start + Duration::minutes(30),
                source: BookingSource::Dashboard,
                notes: None,
            },
            2,
        )
        .await
        .unwrap()
}

fn all() -> ReminderQuery {
    ReminderQuery {
        limit: 100,
        ..ReminderQuery::default()
    }
}

pub async fn bookings_get_a_confirmation_with_its_job_and_moves_replace_it(store: Arc<dyn Store>) {
    let a = book_one(&store, 15).await;
    let list = store.reminders(&all()).await.unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let confirmation = &list[0];
    assert_eq!(
        (
            confirmation.appointment_id,
            confirmation.kind,
            confirmation.channel,
            confirmation.status,
            confirmation.appointment_start
        ),
        (
            a.id,
            ReminderKind::Confirmation,
            ReminderChannel::Sms,
            ReminderStatus::Pending,
            a.start
        )
    );
    let jobs = store.jobs(None, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, REMINDER_JOB);
    assert_eq!(jobs[0].payload, confirmation.id.to_string());
    assert_eq!(
        jobs[0].dedup_key.as_deref(),
        Some(reminder_job_key(confirmation.id, 0).as_str())
    );

    // The 24-hour reminder, scheduled twice (two sweeps): stored once, one job.
    let reminder = NewReminder {
        appointment_id: a.id,
        kind: ReminderKind::Reminder,
        channel: ReminderChannel::Sms,
        appointment_start: a.start,
        due_at: a.start - Duration::hours(24),
    };
    let added = store
        .schedule_reminders(&[reminder.clone(), reminder.clone()])
        .await
        .unwrap();
    assert_eq!(added.len(), 1);
    assert!(
        store
            .schedule_reminders(std::slice::from_ref(&reminder))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.jobs(None, 10).await.unwrap().len(), 2);
    let e = store
        .schedule_reminders(&[NewReminder {
            appointment_id: 9999,
            ..reminder.clone()
        }])
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)), "{e:?}");

    // A move cancels what was pending for the old start and confirms the new one.
    let moved = store
        .reschedule(
            a.id,
            a.start + Duration::hours(1),
            a.end + Duration::hours(1),
            2,
        )
        .await
        .unwrap();
    let list = store.reminders(&all()).await.unwrap();
    assert_eq!(list.len(), 3, "{list:?}");
    for r in &list {
        if r.appointment_start == a.start {
            assert_eq!(r.status, ReminderStatus::Cancelled, "{r:?}");
        } else {
            assert_eq!(r.appointment_start, moved.start);
            assert_eq!(
                (r.kind, r.status),
                (ReminderKind::Confirmation, ReminderStatus::Pending)
            );
        }
    }

    // A cancellation cancels the rest; a sent reminder stays as it was.
    let sent = list
        .iter()
        .find(|r| r.status == ReminderStatus::Pending)
        .unwrap();
    let at = utc(2030, 3, 1, 12, 0);
    store
        .change_reminder(
            sent.id,
            &ReminderChange {
                provider_sid: Some("SM1".into()),
                ..ReminderChange::new(&[ReminderStatus::Pending], ReminderStatus::Sent, at)
            },
        )
        .await
        .unwrap()
        .unwrap();
    store
        .schedule_reminders(&[NewReminder {
            appointment_start: moved.start,
            ..reminder
        }])
        .await
        .unwrap();
    store
        .set_appointment_status(a.id, AppointmentStatus::Cancelled)
        .await
        .unwrap();
    let after = store.reminders(&all()).await.unwrap();
    assert!(
        after
            .iter()
            .all(|r| r.status == ReminderStatus::Cancelled || r.id == sent.id),
        "{after:?}"
    );
    assert_eq!(
        store.reminder(sent.id).await.unwrap().unwrap().status,
        ReminderStatus::Sent
    );
    let counts = store.reminder_counts().await.unwrap();
    assert_eq!(
        counts,
        vec![(ReminderStatus::Cancelled, 3), (ReminderStatus::Sent, 1)]
    );
}

pub async fn reminders_change_only_from_the_expected_status(store: Arc<dyn Store>) {
    let a = book_one(&store, 16).await;
    let r = store.reminders(&all()).await.unwrap().remove(0);
    let at = utc(2030, 3, 1, 12, 0);

    let claimed = store
        .change_reminder(
            r.id,
            &ReminderChange {
                count_attempt: true,
                ..ReminderChange::new(&[ReminderStatus::Pending], ReminderStatus::Claimed, at)
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (claimed.status, claimed.attempts, claimed.claimed_at),
        (ReminderStatus::Claimed, 1, Some(at))
    );
    // A second claim from pending finds nothing: someone else holds it.
    let again = store
        .change_reminder(
            r.id,
            &ReminderChange::new(&[ReminderStatus::Pending], ReminderStatus::Claimed, at),
        )
        .await
        .unwrap();
    assert_eq!(again, None);

    let sent = store
        .change_reminder(
            r.id,
            &ReminderChange {
                provider_sid: Some("SMaaa".into()),
                provider_status: Some("queued".into()),
                ..ReminderChange::new(&[ReminderStatus::Claimed], ReminderStatus::Sent, at)
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sent.provider_sid.as_deref(), Some("SMaaa"));
    assert_eq!(sent.sent_at, Some(at));

    // A callback naming another SID does not touch it; the right one does.
    let wrong = store
        .change_reminder(
            r.id,
            &ReminderChange {
                provider_sid: Some("SMbbb".into()),
                ..ReminderChange::new(&[ReminderStatus::Sent], ReminderStatus::Delivered, at)
            },
        )
        .await
        .unwrap();
    assert_eq!(wrong, None);
    let delivered = store
        .change_reminder(
            r.id,
            &ReminderChange {
                provider_sid: Some("SMaaa".into()),
                provider_status: Some("delivered".into()),
                ..ReminderChange::new(&[ReminderStatus::Sent], ReminderStatus::Delivered, at)
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivered.status, ReminderStatus::Delivered);
    assert_eq!(delivered.provider_status.as_deref(), Some("delivered"));

    // A requeue clears the SID and adds the next round's job in the same transaction.
    let retry_at = at + Duration::hours(2);
    let requeued = store
        .change_reminder(
            r.id,
            &ReminderChange {
                requeue_at: Some(retry_at),
                clear_sid: true,
                last_error: Some("no-answer".into()),
                ..ReminderChange::new(&[ReminderStatus::Delivered], ReminderStatus::Pending, at)
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(requeued.provider_sid, None);
    assert_eq!(requeued.due_at, retry_at);
    let keys: Vec<_> = store
        .jobs(None, 10)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|j| j.dedup_key)
        .collect();
    assert!(keys.contains(&reminder_job_key(r.id, 1)), "{keys:?}");
    let claimed_again = store
        .claim_jobs("w", retry_at, StdDuration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!(claimed_again.len(), 2, "both rounds' jobs are due");
    assert_eq!(
        store
            .reminders(&ReminderQuery {
                appointment_id: Some(a.id + 1000),
                ..all()
            })
            .await
            .unwrap(),
        vec![]
    );
}

pub async fn opt_outs_and_sms_threads(store: Arc<dyn Store>) {
    let phone = PhoneNumber::parse("+15555550123").unwrap();
    let other = PhoneNumber::parse("+15555550124").unwrap();
    let at = utc(2030, 3, 1, 12, 0);
    assert!(!store.opted_out(&phone).await.unwrap());
    store.set_opted_out(&phone, true, at).await.unwrap();
    store.set_opted_out(&phone, true, at).await.unwrap();
    assert!(store.opted_out(&phone).await.unwrap());
    assert!(!store.opted_out(&other).await.unwrap());
    store.set_opted_out(&phone, false, at).await.unwrap();
    assert!(!store.opted_out(&phone).await.unwrap());

    assert_eq!(store.sms_thread(&phone, at).await.unwrap(), None);
    let until = at + Duration::hours(1);
    store
        .set_sms_thread(&phone, Some("{\"a\":1}"), until)
        .await
        .unwrap();
    store
        .set_sms_thread(&phone, Some("{\"a\":2}"), until)
        .await
        .unwrap();
    assert_eq!(
        store.sms_thread(&phone, at).await.unwrap().as_deref(),
        Some("{\"a\":2}")
    );
    assert_eq!(
        store.sms_thread(&phone, until).await.unwrap(),
        None,
        "expired"
    );
    let e = store
        .set_sms_thread(&phone, Some(&"x".repeat(4001)), until)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)), "{e:?}");
    store.set_sms_thread(&phone, None, until).await.unwrap();
    assert_eq!(store.sms_thread(&phone, at).await.unwrap(), None);
}
