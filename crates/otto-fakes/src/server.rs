//! Serving an axum router on `127.0.0.1:0` until the returned handle is dropped.

use std::net::SocketAddr;

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A running fake server; dropping it asks the server to stop accepting connections.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            // The server task may already be gone (runtime shut down); nothing to do then.
            let _ = tx.send(());
        }
    }
}

/// Binds `127.0.0.1:0` and serves `router` on a spawned task of the current tokio runtime.
///
/// # Panics
/// When no loopback port can be bound: the fake cannot exist and the test cannot run.
pub(crate) async fn serve(router: Router) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("fake server: cannot bind 127.0.0.1:0");
    let addr = listener
        .local_addr()
        .expect("fake server: bound socket has a local address");
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        // Small frames go out at once, as a real vendor's server sends them (no Nagle delay).
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Running {
        addr,
        shutdown: Some(tx),
    }
}
