//! [`HttpError`]: the one error type of every HTTP route. Client errors answer with their
//! status and a short plain-text reason; internal errors are logged once, here, and answered
//! with an opaque 500 so nothing about the inside leaks to the caller.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tracing::error;

/// Why a request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// 400: the request is malformed (the reason is safe to show: it names what is wrong
    /// with the client's own input).
    #[error("{0}")]
    BadRequest(String),
    /// 403: the request is not allowed (e.g. a Twilio signature that does not validate).
    #[error("{0}")]
    Forbidden(&'static str),
    /// 503: the server cannot take this now (shutting down, at the call limit).
    #[error("{0}")]
    Unavailable(&'static str),
    /// 500: something failed inside; logged with its cause, answered without it.
    #[error("internal error: {0}")]
    Internal(String),
}

impl HttpError {
    /// An internal error from any displayable cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match self {
            Self::BadRequest(why) => (StatusCode::BAD_REQUEST, why).into_response(),
            Self::Forbidden(why) => (StatusCode::FORBIDDEN, why).into_response(),
            Self::Unavailable(why) => (StatusCode::SERVICE_UNAVAILABLE, why).into_response(),
            Self::Internal(cause) => {
                error!(%cause, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_are_opaque_and_client_errors_say_why() {
        let r = HttpError::internal("db password=hunter2 refused").into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let r = HttpError::BadRequest("missing CallSid".into()).into_response();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            HttpError::Forbidden("invalid signature")
                .into_response()
                .status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            HttpError::Unavailable("shutting down")
                .into_response()
                .status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
