//! The HTTP server behind `otto serve`: Twilio webhooks and the media WebSocket
//! ([`twilio`]), the text chat WebSocket ([`chat`]), operations endpoints ([`ops`]), and the
//! staff dashboard ([`crate::dashboard`], which lists its own routes). Nothing but Twilio's
//! signed webhooks, `/health`, `/ready`, `/metrics` (bearer token or loopback) and the login
//! page answers without a staff session.
//!
//! | route | what |
//! |---|---|
//! | `POST /twilio/voice` | incoming-call webhook → TwiML `<Connect><Stream>` (or a busy message) |
//! | `POST /twilio/status` | call status callbacks → call log |
//! | `GET /twilio/media` | Twilio Media Streams WebSocket → one call runner per stream |
//! | `POST /twilio/sms`, `/twilio/sms/status`, `/twilio/reminder/{amd,status}` | texts from customers and reminder callbacks ([`messaging`]) |
//! | `GET /chat?from=+1…` | text conversation over a WebSocket, for signed-in staff (the dashboard's "Try Otto") |
//! | `GET /health`, `GET /ready`, `GET /metrics` | liveness, readiness, Prometheus metrics |
//!
//! Shutdown is graceful: on the shutdown signal the server stops taking calls (webhooks answer
//! the busy message), lets live calls go on up to `server.shutdown_grace_secs`, then ends them.

pub mod chat;
pub mod error;
pub mod messaging;
pub mod ops;
pub mod twilio;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use otto_twilio::signature::SignatureValidator;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::info;

use crate::call::CallServices;
use crate::config::Config;

/// Largest webhook body accepted, bytes (Twilio's forms are about 1–2 KiB).
pub const MAX_WEBHOOK_BYTES: usize = 16 * 1024;

/// State shared by every handler.
pub struct AppState {
    pub config: Config,
    pub calls: Arc<CallServices>,
    /// `None` when signature validation is switched off.
    pub validator: Option<SignatureValidator>,
    /// One permit per live call (`server.max_concurrent_calls`), reserved by the webhook.
    pub admission: Arc<crate::call::admission::Admission>,
    /// Fired when the server begins shutting down.
    pub shutting_down: CancellationToken,
    /// Fired when live calls must end (grace period over).
    pub end_calls: CancellationToken,
    /// Live call and chat tasks, awaited on shutdown.
    pub tasks: TaskTracker,
    /// Sign-in attempt limits of the dashboard.
    pub login_limits: crate::dashboard::auth::LoginLimits,
    /// Calls per caller ID per minute (`server.calls_per_caller_per_minute`).
    pub caller_limits: governor::DefaultKeyedRateLimiter<String>,
    /// Requests per IP per minute on the routes open without a session
    /// (`server.requests_per_ip_per_minute`).
    pub ip_limits: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    /// Reminders, confirmations and two-way SMS.
    pub reminders: crate::reminders::Reminders,
}

impl AppState {
    /// Builds the state for `config` (whose `server.public_url` must already be the URL Twilio
    /// uses to reach this server).
    ///
    /// # Errors
    /// Signature validation on without a Twilio auth token while `public_url` is not loopback
    /// (on loopback, validation is off with a warning: nothing outside can reach it).
    pub fn new(config: Config, calls: Arc<CallServices>) -> anyhow::Result<Self> {
        let validator = match (&config.twilio, config.server.validate_signatures) {
            (Some(t), true) => Some(SignatureValidator::new(t.auth_token.clone())),
            // Nothing is exposed: a first run with no configuration just works.
            (None, true) if loopback_url(&config.server.public_url) => {
                tracing::warn!(
                    public_url = %config.server.public_url,
                    "no Twilio account configured: webhook signatures are not checked. Otto \
                     is reachable on this machine only (public_url is loopback); set twilio.* \
                     before exposing it"
                );
                None
            }
            (None, true) => bail!(
                "server.public_url {} is not a loopback address, so webhook signatures must be \
                 checked, but no Twilio auth token is configured: set twilio.account_sid, \
                 twilio.auth_token and twilio.from_number",
                config.server.public_url
            ),
            (_, false) => None,
        };
        let caller_limits = governor::RateLimiter::keyed(governor::Quota::per_minute(
            std::num::NonZeroU32::new(config.server.calls_per_caller_per_minute)
                .unwrap_or(std::num::NonZeroU32::MIN),
        ));
        let ip_limits = governor::RateLimiter::keyed(governor::Quota::per_minute(
            std::num::NonZeroU32::new(config.server.requests_per_ip_per_minute)
                .unwrap_or(std::num::NonZeroU32::MIN),
        ));
        let admission = Arc::new(crate::call::admission::Admission::new(
            config.server.max_concurrent_calls as usize,
            Duration::from_secs(config.server.stream_wait_secs),
        ));
        let reminders = crate::reminders::Reminders::from_config(&config, calls.shop.clone())?;
        Ok(Self {
            reminders,
            config,
            calls,
            validator,
            admission,
            shutting_down: CancellationToken::new(),
            end_calls: CancellationToken::new(),
            tasks: TaskTracker::new(),
            login_limits: crate::dashboard::auth::LoginLimits::default(),
            caller_limits,
            ip_limits,
        })
    }

    /// `server.public_url` without a trailing slash.
    pub fn public_url(&self) -> &str {
        self.config.server.public_url.trim_end_matches('/')
    }

    /// The media stream URL put in TwiML: the public URL with `ws(s)://` and `/twilio/media`.
    pub fn stream_url(&self) -> String {
        let base = self.public_url();
        let ws = if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            base.to_string()
        };
        format!("{ws}/twilio/media")
    }
}

/// Whether `url`'s host is a loopback address (127.0.0.0/8, ::1 or `localhost`).
pub fn loopback_url(url: &str) -> bool {
    let Some(rest) = url.split_once("://").map(|(_, r)| r) else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The header carrying each request's id, in the response and in every log line of the request.
pub const REQUEST_ID: &str = "x-request-id";

/// Gives every request an id: the client's `X-Request-Id` when it is 1..=64 letters, digits,
/// `-` or `_` (a proxy's), else a new random one. The request is handled inside a `request`
/// span carrying the id, method and path, and the response names the id.
async fn request_id(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;
    let given = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_string);
    let id = given.unwrap_or_else(|| crate::dashboard::auth::random_token(12));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path()
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
        request.headers_mut().insert(REQUEST_ID, v.clone());
        let mut response = next.run(request).instrument(span).await;
        response.headers_mut().insert(REQUEST_ID, v);
        response
    } else {
        next.run(request).instrument(span).await
    }
}

/// Refuses a request with 429 (and `Retry-After: 60`) when its IP address is past
/// `server.requests_per_ip_per_minute`; counted in `otto_rate_limited_total{limit="ip"}`.
async fn per_ip_limit(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if state.ip_limits.check_key(&peer.ip()).is_err() {
        metrics::counter!("otto_rate_limited_total", "limit" => "ip").increment(1);
        return (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            [(axum::http::header::RETRY_AFTER, "60")],
            "too many requests: try again in a minute\n",
        )
            .into_response();
    }
    next.run(request).await
}

/// The router over `state`. Installs the process's metrics recorder first, so what calls
/// record before the first scrape is kept.
pub fn router(state: Arc<AppState>) -> Router {
    ops::prometheus();
    let mut open = Router::new()
        .route("/twilio/voice", post(twilio::voice))
        .route("/twilio/status", post(twilio::status))
        .route("/twilio/media", get(twilio::media))
        .route("/twilio/sms", post(messaging::incoming))
        .route("/twilio/sms/status", post(messaging::sms_status))
        .route("/twilio/reminder/amd", post(messaging::amd))
        .route("/twilio/reminder/status", post(messaging::call_status));
    if state.config.server.chat {
        open = open.route("/chat", get(chat::chat));
    }
    let open = open.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        per_ip_limit,
    ));
    crate::dashboard::routes()
        .merge(open)
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
        .layer(axum::middleware::from_fn(request_id))
        .with_state(state)
}

/// How often reservations whose stream never came are looked for.
const EXPIRY_TICK: Duration = Duration::from_secs(1);

/// Frees the places of calls answered with `<Connect><Stream>` whose media stream never
/// started, and closes their call logs (outcome "no_stream"), until `stop`; also trims the
/// rate limiters.
async fn close_streamless_calls(state: Arc<AppState>, stop: CancellationToken) {
    let mut tick = tokio::time::interval(EXPIRY_TICK);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        // Rate-limit keys whose allowance is whole again are forgotten (memory stays bounded).
        state.ip_limits.retain_recent();
        state.caller_limits.retain_recent();
        for call_sid in state.admission.expired() {
            tracing::warn!(%call_sid, "no media stream came for an answered call");
            let outcome = otto_shop::CallOutcome {
                outcome: Some("no_stream".into()),
                ..otto_shop::CallOutcome::default()
            };
            if let Err(e) = state.calls.recorder.end(&call_sid, None, outcome).await {
                tracing::warn!(error = %e, "streamless call log not closed");
            }
        }
    }
}

/// A server running in the background (tests, the demo, `otto call` against itself).
pub struct RunningServer {
    /// The bound address.
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    stop: CancellationToken,
}

impl RunningServer {
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts down gracefully and waits for it.
    ///
    /// # Errors
    /// The server's own error, if it failed.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.stop.cancel();
        self.task.await.context("server task")?
    }
}

/// A `server.public_url` left at its default follows the address actually bound (`listen`
/// may name another port, or port 0), so the TwiML's stream URL reaches this server.
pub fn follow_listen(config: &mut Config, bound: std::net::SocketAddr) {
    if config.server.public_url == crate::config::ServerConfig::default().public_url {
        config.server.public_url = format!("http://{bound}");
    }
}

/// Binds `config.server.listen` (port 0 picks a free port; a `public_url` left at its
/// default then follows the bound port) and serves in the background until
/// [`RunningServer::shutdown`].
///
/// # Errors
/// The address cannot be bound; [`AppState::new`]'s errors.
pub async fn spawn(mut config: Config, calls: Arc<CallServices>) -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    follow_listen(&mut config, addr);
    let state = Arc::new(AppState::new(config, calls)?);
    let stop = CancellationToken::new();
    let task = tokio::spawn(serve(listener, state.clone(), stop.clone()));
    Ok(RunningServer {
        addr,
        state,
        task,
        stop,
    })
}

/// Serves on `listener` until `stop` fires, then shuts down gracefully: no new calls, live
/// calls get the grace period, then are ended.
///
/// # Errors
/// I/O errors of the listener.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let app = router(state.clone());
    let shutting_down = state.shutting_down.clone();
    let signal = {
        let stop = stop.clone();
        async move {
            stop.cancelled().await;
            shutting_down.cancel();
        }
    };
    info!(addr = %listener.local_addr()?, "Otto is listening");
    let expiry = tokio::spawn(close_streamless_calls(state.clone(), stop.clone()));
    // Media frames are small and must leave at once: no Nagle delay waiting for an ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal)
    .await
    .context("HTTP server")?;
    // HTTP is down; media sockets live on in their own tasks.
    expiry.abort();
    state.tasks.close();
    let grace = Duration::from_secs(state.config.server.shutdown_grace_secs);
    if tokio::time::timeout(grace, state.tasks.wait())
        .await
        .is_err()
    {
        info!("grace period over: ending live calls");
        state.end_calls.cancel();
        state.tasks.wait().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_told_apart() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:8080/x",
            "http://[::1]:8080",
            "http://127.0.0.2",
        ] {
            assert!(loopback_url(url), "{url}");
        }
        for url in [
            "https://otto.example.com",
            "http://10.0.0.5:8080",
            "http://127.0.0.1.example.com",
            "http://localhost@evil.example",
            "not a url",
        ] {
            assert!(!loopback_url(url), "{url}");
        }
    }
}
