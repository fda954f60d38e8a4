//! Opening a Deepgram WebSocket (`deepgram.md` a.1, a.8): `Authorization: Token <key>` on the
//! upgrade, TLS through rustls with the webpki roots, a connect deadline, and refused upgrades
//! mapped to clear errors with retry advice.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Error as WsError};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use otto_core::speech::SpeechError;

use super::engine_error;
use super::wire::describe_error_body;

/// Read buffer per Deepgram socket, bytes. Results and TTS audio frames are a few KiB at most;
/// tungstenite's default of 128 KiB is zero-filled before every read, a large CPU cost at a
/// few hundred calls. Larger messages are read in several reads.
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// An open Deepgram socket.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One rustls client configuration per process (ring provider, webpki roots), built on first
/// use. Explicit provider: the workspace enables both rustls providers, so rustls cannot pick
/// a process default by itself.
fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// Why a Deepgram socket could not be opened.
#[derive(Debug)]
pub(crate) struct ConnectError {
    /// The error to report, with its retry advice.
    pub error: SpeechError,
    /// Deepgram's server answered (it refused the upgrade with an HTTP status), so it can be
    /// reached; `false` for connection and TLS failures, timeouts and unusable URLs.
    pub answered: bool,
}

impl ConnectError {
    fn local(message: String) -> Self {
        Self {
            error: engine_error(message, false),
            answered: false,
        }
    }
}

impl From<ConnectError> for SpeechError {
    fn from(e: ConnectError) -> Self {
        e.error
    }
}

/// Connects to `url` (a `ws://` or `wss://` URL with its query) with the API key.
///
/// Returns the socket and Deepgram's `dg-request-id` when the server sent one.
///
/// Errors ([`ConnectError`], its [`SpeechError::Engine`]): a refused upgrade (`answered`)
/// names the HTTP status and Deepgram's `err_code: err_msg` and is retryable for 408, 429 and
/// 5xx only (401 bad key, 402 no credits, 403, 400 bad parameter are not); connection
/// failures, TLS failures and the `timeout` passing are retryable; an unusable URL is not.
pub(crate) async fn connect(
    url: &str,
    api_key: &SecretString,
    timeout: Duration,
) -> Result<(Socket, Option<String>), ConnectError> {
    let mut request = url
        .into_client_request()
        .map_err(|e| ConnectError::local(format!("invalid WebSocket URL: {e}")))?;
    let mut auth = HeaderValue::from_str(&format!("Token {}", api_key.expose_secret()))
        .map_err(|_| ConnectError::local("API key is not a valid header value".into()))?;
    auth.set_sensitive(true);
    request.headers_mut().insert("authorization", auth);
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    let connecting = tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(config),
        true,
        Some(Connector::Rustls(tls_config())),
    );
    let (socket, response) = match tokio::time::timeout(timeout, connecting).await {
        Err(_) => {
            return Err(ConnectError {
                error: engine_error(
                    format!(
                        "WebSocket handshake timed out after {} ms",
                        timeout.as_millis()
                    ),
                    true,
                ),
                answered: false,
            });
        }
        Ok(Err(e)) => return Err(handshake_error(e)),
        Ok(Ok(pair)) => pair,
    };
    let request_id = response
        .headers()
        .get("dg-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((socket, request_id))
}

fn handshake_error(e: WsError) -> ConnectError {
    match e {
        WsError::Http(response) => {
            let status = response.status().as_u16();
            let detail = response
                .body()
                .as_deref()
                .map(describe_error_body)
                .filter(|d| !d.is_empty())
                .or_else(|| {
                    let h = response.headers().get("dg-error")?;
                    h.to_str().ok().map(str::to_owned)
                })
                .unwrap_or_else(|| "no details".into());
            let request_id = response
                .headers()
                .get("dg-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none");
            ConnectError {
                error: engine_error(
                    format!(
                        "WebSocket upgrade refused with HTTP {status}: {detail} (dg-request-id {request_id})"
                    ),
                    matches!(status, 408 | 429 | 500..=599),
                ),
                answered: true,
            }
        }
        WsError::Url(e) => ConnectError::local(format!("invalid WebSocket URL: {e}")),
        other => ConnectError {
            error: engine_error(format!("WebSocket connection failed: {other}"), true),
            answered: false,
        },
    }
}

/// Whether a close frame from Deepgram is the inactivity timeout (NET-0001), matched leniently
/// anywhere in the reason (`deepgram.md` a.5).
pub(crate) fn is_net0001(frame: &tungstenite::protocol::CloseFrame) -> bool {
    let reason = frame.reason.to_ascii_lowercase();
    reason.contains("net-0001") || reason.contains("net0001")
}
