//! A staff member's browser over plain HTTP: sign in through the login form (cookie and CSRF
//! token), then GET pages and POST forms as that member.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

/// The password the tests give every staff account.
pub const PASSWORD: &str = "correct horse battery";

/// Adds a staff account `name` with [`PASSWORD`] to `store`.
pub async fn add_staff(
    store: &dyn otto_store::Store,
    name: &str,
    role: otto_core::records::StaffRole,
) {
    store
        .create_staff(&otto_store::NewStaff {
            name: name.into(),
            role,
            password_hash: otto::dashboard::auth::hash_password(PASSWORD).unwrap(),
        })
        .await
        .unwrap();
}

/// An HTTP client that does not follow redirects (the tests check them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first `name="csrf" value="…"` in a page.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token");
    let rest = &html[at + 19..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// A browser signed in as `name`: its cookie header and CSRF token.
pub struct Session {
    pub base: String,
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    pub async fn sign_in(base: &str, name: &str) -> Self {
        let base = base.trim_end_matches('/').to_string();
        let login = client().get(format!("{base}/login")).send().await.unwrap();
        let login_cookie = login.headers()[SET_COOKIE].to_str().unwrap().to_string();
        let login_cookie = login_cookie.split(';').next().unwrap().to_string();
        let form_csrf = csrf_of(&login.text().await.unwrap());
        let r = client()
            .post(format!("{base}/login"))
            .header(COOKIE, &login_cookie)
            .form(&[
                ("name", name),
                ("password", PASSWORD),
                ("csrf", &form_csrf),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "signed in");
        let set: Vec<String> = r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        let session = set
            .iter()
            .find(|c| c.starts_with("otto_session="))
            .expect("a session cookie");
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(session.contains(attr), "{session}");
        }
        assert!(!session.contains("Secure"), "plain http: no Secure flag");
        let cookie = session.split(';').next().unwrap().to_string();
        let home = client()
            .get(format!("{base}/"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(home.status(), StatusCode::OK);
        let csrf = csrf_of(&home.text().await.unwrap());
        Self { base, cookie, csrf }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = client()
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// Posts `form` with this session's CSRF token added; the status and the redirect target.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", &self.csrf));
        self.post_raw(path, &fields).await
    }

    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let r = client()
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let to = r
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        (r.status(), to)
    }
}
