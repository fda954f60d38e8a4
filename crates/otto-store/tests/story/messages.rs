//! Messages for the staff: recorded with their call and caller, listed, marked handled once.

use std::sync::Arc;

use otto_core::records::CallDirection;
use otto_store::testing::{customer, utc};
use otto_store::{NewCall, NewMessage, Store, StoreError};

pub async fn messages_are_listed_newest_first_and_handled_once(store: Arc<dyn Store>) {
    let jordan = store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap();
    let call = store
        .start_call(&NewCall {
            call_sid: "CA01".into(),
            direction: CallDirection::Inbound,
            from: "+15555550123".into(),
            to: "+15555550100".into(),
            started_at: utc(2026, 8, 6, 13, 0),
            customer_id: None,
        })
        .await
        .unwrap();
    let message = |body: &str, minute: u32| NewMessage {
        call_id: Some(call.id),
        customer_id: Some(jordan.id),
        from_phone: "+15555550123".into(),
        caller_name: Some("Jordan Smith".into()),
        body: body.into(),
        created_at: utc(2026, 8, 6, 13, minute),
    };
    let first = store
        .create_message(&message("call me about the quote", 1))
        .await
        .unwrap();
    let second = store
        .create_message(&message("is my car ready", 2))
        .await
        .unwrap();
    assert_eq!(first.call_id, Some(call.id));
    let e = store.create_message(&message("", 3)).await.unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)), "{e:?}");

    let open = store.messages(true, 10).await.unwrap();
    assert_eq!(
        open.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![second.id, first.id]
    );

    let at = utc(2026, 8, 6, 14, 0);
    let handled = store
        .mark_message_handled(first.id, "sam", at)
        .await
        .unwrap();
    assert_eq!(
        (handled.handled_at, handled.handled_by.as_deref()),
        (Some(at), Some("sam"))
    );
    // The first marking wins.
    let again = store
        .mark_message_handled(first.id, "alex", utc(2026, 8, 6, 15, 0))
        .await
        .unwrap();
    assert_eq!(again.handled_by.as_deref(), Some("sam"));
    assert_eq!(store.messages(true, 10).await.unwrap().len(), 1);
    assert_eq!(store.messages(false, 10).await.unwrap().len(), 2);
    let e = store
        .mark_message_handled(999, "sam", at)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
}
