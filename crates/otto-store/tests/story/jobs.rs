//! The job queue: enqueue with dedup, claim with a lease, finish only while holding it.

use std::sync::Arc;
use std::time::Duration;

use otto_core::records::{Job, JobStatus};
use otto_store::testing::utc;
use otto_store::{NewJob, Store, StoreError};

fn job(kind: &str, dedup: Option<&str>, minute: u32) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: format!(r#"{{"n":{minute}}}"#),
        dedup_key: dedup.map(String::from),
        run_at: utc(2026, 8, 6, 13, minute),
        max_attempts: 3,
    }
}

async fn find(store: &Arc<dyn Store>, id: i64) -> Job {
    let jobs = store.jobs(None, 100).await.unwrap();
    jobs.into_iter().find(|j| j.id == id).unwrap()
}

pub async fn jobs_are_claimed_once_and_finished_only_under_lease(store: Arc<dyn Store>) {
    let a = store
        .enqueue_job(&job("demo", Some("k1"), 0))
        .await
        .unwrap();
    let again = store
        .enqueue_job(&job("demo", Some("k1"), 5))
        .await
        .unwrap();
    assert_eq!(again.id, a.id, "a dedup key enqueues once");
    assert_eq!(again.run_at, a.run_at, "the stored job is unchanged");
    let b = store.enqueue_job(&job("demo", None, 1)).await.unwrap();
    let later = store.enqueue_job(&job("demo", None, 30)).await.unwrap();
    let e = store.enqueue_job(&job("", None, 0)).await.unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)), "{e:?}");

    let now = utc(2026, 8, 6, 13, 10);
    let lease = Duration::from_secs(60);
    let claimed = store.claim_jobs("w1", now, lease, 10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![a.id, b.id],
        "due jobs, oldest first; the later one waits"
    );
    assert!(claimed.iter().all(|j| j.status == JobStatus::Running
        && j.attempts == 1
        && j.lease_owner.as_deref() == Some("w1")));
    assert!(
        store
            .claim_jobs("w2", now, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // w1 finishes a; another worker cannot finish or retry b.
    assert_eq!(
        store.complete_job(a.id, "w1").await.unwrap().status,
        JobStatus::Done
    );
    let e = store.complete_job(b.id, "w2").await.unwrap_err();
    assert!(
        matches!(e, StoreError::LeaseLost(id) if id == b.id),
        "{e:?}"
    );
    let e = store
        .retry_job(b.id, "w2", now, "not mine")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::LeaseLost(_)), "{e:?}");
    let e = store.bury_job(b.id, "w2", "not mine").await.unwrap_err();
    assert!(matches!(e, StoreError::LeaseLost(_)), "{e:?}");
    let held = find(&store, b.id).await;
    assert_eq!(
        (held.status, held.lease_owner.as_deref(), held.last_error),
        (JobStatus::Running, Some("w1"), None),
        "refused calls change nothing"
    );
    let e = store.complete_job(a.id, "w1").await.unwrap_err();
    assert!(
        matches!(e, StoreError::LeaseLost(_)),
        "a finished job cannot be finished again: {e:?}"
    );
    let e = store.complete_job(999_999, "w1").await.unwrap_err();
    assert!(matches!(e, StoreError::LeaseLost(_)), "{e:?}");

    // w1 dies holding b: after the lease, w2 claims it again (a second attempt), and w1's
    // late completion is refused.
    let after_lease = now + chrono::Duration::seconds(61);
    let reclaimed = store
        .claim_jobs("w2", after_lease, lease, 10)
        .await
        .unwrap();
    assert_eq!(
        reclaimed.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![b.id]
    );
    assert_eq!(reclaimed[0].attempts, 2);
    let e = store.complete_job(b.id, "w1").await.unwrap_err();
    assert!(matches!(e, StoreError::LeaseLost(_)), "{e:?}");
    let e = store
        .retry_job(b.id, "w1", after_lease, "late")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::LeaseLost(_)), "{e:?}");
    let held = find(&store, b.id).await;
    assert_eq!(
        (held.status, held.lease_owner.as_deref(), held.attempts),
        (JobStatus::Running, Some("w2"), 2),
        "the late worker changes nothing"
    );
    assert!(held.updated_at >= held.created_at);

    // A retry waits for its time and keeps the error; a burial is final.
    let retry_at = after_lease + chrono::Duration::minutes(5);
    let r = store
        .retry_job(b.id, "w2", retry_at, "timeout")
        .await
        .unwrap();
    assert_eq!(
        (r.status, r.last_error.as_deref()),
        (JobStatus::Pending, Some("timeout"))
    );
    assert!(
        store
            .claim_jobs("w2", after_lease, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let c = store
        .claim_jobs("w2", utc(2026, 8, 6, 13, 31), lease, 10)
        .await
        .unwrap();
    assert_eq!(
        c.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![b.id, later.id]
    );
    let dead = store.bury_job(b.id, "w2", "invalid number").await.unwrap();
    assert_eq!(dead.status, JobStatus::Dead);

    let done = store.jobs(Some(JobStatus::Done), 10).await.unwrap();
    assert_eq!(done.iter().map(|j| j.id).collect::<Vec<_>>(), vec![a.id]);
    assert_eq!(store.jobs(None, 10).await.unwrap().len(), 3);
}
