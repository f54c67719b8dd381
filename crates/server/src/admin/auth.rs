//! Admin access. Bound to loopback, the UI and `/api` are open (the machine's
//! own users). Bound to any other address, an admin token is required: as
//! `Authorization: Bearer <token>` for API clients, or through the login page,
//! which sets an HttpOnly, SameSite=Strict session cookie. Requests that change
//! state with the cookie must also carry `X-Requested-With: switchyard`, a
//! header a cross-site form cannot send (CSRF). Sessions expire (idle and
//! absolute limits), and wrong tokens are throttled per client address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;

use axum::extract::FromRequest;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use rand::Rng;

use super::error::error;

pub const COOKIE: &str = "switchyard_admin";
pub const CSRF_HEADER: &str = "x-requested-with";
pub const CSRF_VALUE: &str = "switchyard";

/// A session unused this long ends.
pub const SESSION_IDLE: Duration = Duration::from_secs(8 * 3600);
/// A session ends this long after sign-in, however much it is used.
pub const SESSION_MAX: Duration = Duration::from_secs(24 * 3600);
/// Wrong tokens one client address may send per window before it must wait.
const MAX_FAILURES: u32 = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

struct Session {
    created: Instant,
    last_used: Instant,
}

#[derive(Default)]
pub struct AdminAuth {
    /// `None`: open (loopback bind).
    token: Option<String>,
    sessions: Mutex<HashMap<String, Session>>,
    /// Wrong tokens per client address: count and when the window began.
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl AdminAuth {
    pub fn open() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn with_token(token: String) -> Arc<Self> {
        Arc::new(Self { token: Some(token), ..Self::default() })
    }

    /// How long `peer` must wait before trying a token again, when throttled.
    fn throttled(&self, peer: Option<IpAddr>) -> Option<Duration> {
        let peer = peer?;
        let failures = self.failures.lock().ok()?;
        let (count, since) = failures.get(&peer)?;
        let left = FAILURE_WINDOW.checked_sub(since.elapsed())?;
        (*count >= MAX_FAILURES).then_some(left)
    }

    fn record_failure(&self, peer: Option<IpAddr>) {
        let (Some(peer), Ok(mut failures)) = (peer, self.failures.lock()) else { return };
        if failures.len() > 10_000 {
            failures.retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
        }
        let entry = failures.entry(peer).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= FAILURE_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
        tracing::warn!(%peer, failures = entry.0, "wrong admin token");
    }

    pub fn required(&self) -> bool {
        self.token.is_some()
    }

    fn token_matches(&self, given: &str) -> bool {
        let Some(token) = &self.token else { return true };
        let (a, b) = (token.as_bytes(), given.as_bytes());
        // No early exit on the first differing byte: timing says nothing of the token.
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    fn new_session(&self) -> String {
        let id: String = (0..32).map(|_| format!("{:02x}", rand::rng().random::<u8>())).collect();
        if let Ok(mut s) = self.sessions.lock() {
            s.retain(|_, v| Self::alive(v));
            let now = Instant::now();
            s.insert(id.clone(), Session { created: now, last_used: now });
        }
        id
    }

    fn alive(s: &Session) -> bool {
        s.created.elapsed() < SESSION_MAX && s.last_used.elapsed() < SESSION_IDLE
    }

    fn session_valid(&self, id: &str) -> bool {
        let Ok(mut sessions) = self.sessions.lock() else { return false };
        match sessions.get_mut(id) {
            Some(s) if Self::alive(s) => {
                s.last_used = Instant::now();
                true
            }
            Some(_) => {
                sessions.remove(id);
                false
            }
            None => false,
        }
    }

    fn end_session(&self, id: &str) {
        if let Ok(mut s) = self.sessions.lock() {
            s.remove(id);
        }
    }
}

fn cookie_session(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == COOKIE).then(|| v.to_string())
    })
}

enum Caller {
    Bearer,
    Cookie,
    /// A wrong bearer token.
    WrongToken,
    Nobody,
}

fn caller(auth: &AdminAuth, headers: &HeaderMap) -> Caller {
    if let Some(token) = crate::headers::bearer(headers) {
        if auth.token_matches(token) {
            return Caller::Bearer;
        }
        if cookie_session(headers).is_none() {
            return Caller::WrongToken;
        }
    }
    match cookie_session(headers) {
        Some(id) if auth.session_valid(&id) => Caller::Cookie,
        _ => Caller::Nobody,
    }
}

/// Guards `/api` and the UI.
pub async fn require_admin(State(auth): State<Arc<AdminAuth>>, req: Request, next: Next) -> Response {
    if !auth.required() {
        return next.run(req).await;
    }
    let is_api = req.uri().path().starts_with("/api/");
    let peer = peer_ip(&req);
    if let Some(wait) = auth.throttled(peer) {
        return too_many(wait, is_api);
    }
    match caller(&auth, req.headers()) {
        Caller::Bearer => next.run(req).await,
        Caller::Cookie => {
            let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
            let csrf_ok = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) == Some(CSRF_VALUE);
            if changes_state && !csrf_ok {
                return error(StatusCode::FORBIDDEN, "missing X-Requested-With: switchyard header (CSRF protection)")
                    .into_response();
            }
            next.run(req).await
        }
        Caller::WrongToken => {
            auth.record_failure(peer);
            error(StatusCode::UNAUTHORIZED, "that admin token is not right").into_response()
        }
        Caller::Nobody if is_api => error(
            StatusCode::UNAUTHORIZED,
            "admin token required: send Authorization: Bearer <token> or log in at /login",
        )
        .into_response(),
        Caller::Nobody => Redirect::to("/login").into_response(),
    }
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    token: String,
}

pub async fn login_page(State(auth): State<Arc<AdminAuth>>) -> Response {
    if !auth.required() {
        return Redirect::to("/ui/").into_response();
    }
    Html(super::ui::login_html(None)).into_response()
}

pub async fn login(State(auth): State<Arc<AdminAuth>>, req: Request) -> Response {
    let peer = peer_ip(&req);
    if let Some(wait) = auth.throttled(peer) {
        return too_many(wait, false);
    }
    let form = match Form::<LoginForm>::from_request(req, &()).await {
        Ok(Form(f)) => f,
        Err(e) => {
            return (e.status(), Html(super::ui::login_html(Some("Send the token from the form.")))).into_response()
        }
    };
    if !auth.required() || !auth.token_matches(form.token.trim()) {
        auth.record_failure(peer);
        return (StatusCode::UNAUTHORIZED, Html(super::ui::login_html(Some("That token is not right."))))
            .into_response();
    }
    let id = auth.new_session();
    let cookie = format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}", SESSION_MAX.as_secs());
    ([(header::SET_COOKIE, cookie)], Redirect::to("/ui/")).into_response()
}

pub async fn logout(State(auth): State<Arc<AdminAuth>>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie_session(&headers) {
        auth.end_session(&id);
    }
    let cookie = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

fn peer_ip(req: &Request) -> Option<IpAddr> {
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

fn too_many(wait: Duration, is_api: bool) -> Response {
    let secs = wait.as_secs().max(1);
    let message = format!("too many wrong admin tokens from this address; try again in {secs} s");
    let mut resp = if is_api {
        error(StatusCode::TOO_MANY_REQUESTS, message)
    } else {
        (StatusCode::TOO_MANY_REQUESTS, Html(super::ui::login_html(Some(&message)))).into_response()
    };
    if let Ok(v) = secs.to_string().parse() {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::bearer;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut h = HeaderMap::new();
        for v in ["Bearer tok", "bearer tok", "BEARER  tok "] {
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            assert_eq!(bearer(&h), Some("tok"), "{v}");
        }
        h.insert(header::AUTHORIZATION, "Basic dG9r".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn failures_throttle_one_address() {
        let auth = AdminAuth::with_token("t".repeat(20));
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        for _ in 0..MAX_FAILURES {
            assert!(auth.throttled(a).is_none());
            auth.record_failure(a);
        }
        assert!(auth.throttled(a).is_some_and(|w| w <= FAILURE_WINDOW));
        assert!(auth.throttled(b).is_none(), "other addresses are not affected");
    }

    #[test]
    fn sessions_expire() {
        let auth = AdminAuth::with_token("t".repeat(20));
        let id = auth.new_session();
        assert!(auth.session_valid(&id));
        if let Ok(mut s) = auth.sessions.lock() {
            if let Some(sess) = s.get_mut(&id) {
                sess.last_used =
                    Instant::now().checked_sub(SESSION_IDLE + Duration::from_secs(1)).unwrap_or(sess.last_used);
            }
        }
        assert!(!auth.session_valid(&id), "idle session ended");
        assert!(!auth.session_valid(&id), "and removed");
    }
}
