//! Signing in and out: `GET /login` (the form, with a double-submit CSRF cookie),
//! `POST /login` (rate-limited; argon2 verification off the async threads) and
//! `POST /logout` (ends the session in the database and clears the cookie).

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use serde::Deserialize;
use tracing::{info, warn};

use super::auth::{
    self, LOGIN_COOKIE, SESSION_COOKIE, SESSION_HOURS, Staff, cookie_value, random_token,
    same_token, set_cookie, token_hash, verify_password,
};
use super::{PageError, PageResult};
use crate::server::AppState;

/// A hash to verify against when the account does not exist, so that a missing account takes
/// as long to refuse as a wrong password. Made once, from a random password.
fn dummy_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password(&random_token(24)).unwrap_or_default())
        .clone()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shop: String,
    csrf: String,
    next: String,
    error: Option<String>,
}

/// Query of `GET /login`.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Where to go after signing in: a local path only (never another site).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

fn secure(state: &AppState) -> bool {
    state.public_url().starts_with("https://")
}

fn login_page(
    state: &AppState,
    next: &str,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let csrf = random_token(16);
    let page = LoginPage {
        shop: state.calls.shop.config().name.clone(),
        csrf: csrf.clone(),
        next: next.to_string(),
        error,
    };
    Ok((
        status,
        [(
            header::SET_COOKIE,
            set_cookie(LOGIN_COOKIE, Some(&csrf), 3600, secure(state)),
        )],
        Html(page.render()?),
    )
        .into_response())
}

/// `GET /login`.
pub async fn form(State(state): State<Arc<AppState>>, Query(q): Query<LoginQuery>) -> PageResult {
    login_page(&state, &safe_next(q.next.as_deref()), None, StatusCode::OK)
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

/// `POST /login`.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> PageResult {
    let next = safe_next(f.next.as_deref());
    let cookie = cookie_value(&headers, LOGIN_COOKIE).unwrap_or_default();
    if cookie.is_empty() || !same_token(&cookie, &f.csrf) {
        return Err(auth::AuthError::Csrf.into());
    }
    let name = f.name.trim().to_string();
    if !state.login_limits.allow(peer.ip(), &name) {
        warn!("sign-in attempts over the limit");
        return login_page(
            &state,
            &next,
            Some("Too many attempts. Wait a minute and try again.".into()),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let store = state.calls.shop.store().clone();
    let account = if otto_store::staff::valid_staff_name(&name) {
        store.staff_account(&name).await?
    } else {
        None
    };
    let known = account.as_ref().map(|a| a.password_hash.clone());
    let password = f.password;
    let ok = tokio::task::spawn_blocking(move || {
        verify_password(&password, &known.unwrap_or_else(dummy_hash))
    })
    .await
    .unwrap_or(false);
    let Some(account) = account.filter(|_| ok) else {
        return login_page(
            &state,
            &next,
            Some("That name and password do not match.".into()),
            StatusCode::UNAUTHORIZED,
        );
    };
    let token = random_token(32);
    let now = Utc::now();
    store
        .create_staff_session(
            &token_hash(&token),
            account.member.id,
            &random_token(16),
            now,
            now + Duration::hours(SESSION_HOURS),
        )
        .await?;
    info!(staff = %account.member.name, "staff signed in");
    let secure = secure(&state);
    let mut response = Redirect::to(&next).into_response();
    let h = response.headers_mut();
    for c in [
        set_cookie(SESSION_COOKIE, Some(&token), SESSION_HOURS * 3600, secure),
        set_cookie(LOGIN_COOKIE, None, 0, secure),
    ] {
        if let Ok(v) = c.parse() {
            h.append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

/// The logout form.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// `POST /logout`.
pub async fn logout(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    staff.check_csrf(&f.csrf)?;
    state
        .calls
        .shop
        .store()
        .end_staff_session(&staff.token_hash, Utc::now())
        .await?;
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, None, 0, secure(&state)),
        )],
        Redirect::to("/login"),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/calls?day=2026-12-05")),
            "/calls?day=2026-12-05"
        );
        for bad in ["https://evil.example", "//evil.example", "/\\evil", "calls"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
