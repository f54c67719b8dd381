//! Admin access. Bound to loopback, the UI and `/api` are open (the machine's
//! own users). Bound to any other address, an admin token is required: as
//! `Authorization: Bearer <token>` for API clients, or through the login page,
//! which sets an HttpOnly, SameSite=Strict session cookie. Requests that change
//! state with the cookie must also carry `X-Requested-With: switchyard`, a
//! header a cross-site form cannot send (CSRF).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use rand::Rng;

use crate::state::AppState;

pub const COOKIE: &str = "switchyard_admin";
pub const CSRF_HEADER: &str = "x-requested-with";
pub const CSRF_VALUE: &str = "switchyard";

#[derive(Default)]
pub struct AdminAuth {
    /// `None`: open (loopback bind).
    token: Option<String>,
    sessions: Mutex<HashSet<String>>,
}

impl AdminAuth {
    pub fn open() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn with_token(token: String) -> Arc<Self> {
        Arc::new(Self { token: Some(token), sessions: Mutex::new(HashSet::new()) })
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
            s.insert(id.clone());
        }
        id
    }

    fn session_valid(&self, id: &str) -> bool {
        self.sessions.lock().map(|s| s.contains(id)).unwrap_or(false)
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
    Nobody,
}

fn caller(auth: &AdminAuth, headers: &HeaderMap) -> Caller {
    if let Some(token) =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    {
        if auth.token_matches(token) {
            return Caller::Bearer;
        }
    }
    match cookie_session(headers) {
        Some(id) if auth.session_valid(&id) => Caller::Cookie,
        _ => Caller::Nobody,
    }
}

/// Guards `/api` and the UI.
pub async fn require_admin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let auth = state.admin_auth.clone();
    if !auth.required() {
        return next.run(req).await;
    }
    let is_api = req.uri().path().starts_with("/api/");
    match caller(&auth, req.headers()) {
        Caller::Bearer => next.run(req).await,
        Caller::Cookie => {
            let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
            let csrf_ok = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) == Some(CSRF_VALUE);
            if changes_state && !csrf_ok {
                return super::api::error(
                    StatusCode::FORBIDDEN,
                    "missing X-Requested-With: switchyard header (CSRF protection)",
                )
                .into_response();
            }
            next.run(req).await
        }
        Caller::Nobody if is_api => super::api::error(
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

pub async fn login_page(State(state): State<AppState>) -> Response {
    if !state.admin_auth.required() {
        return Redirect::to("/ui/").into_response();
    }
    Html(super::ui::login_html(None)).into_response()
}

pub async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    let auth = &state.admin_auth;
    if !auth.required() || !auth.token_matches(&form.token) {
        return (StatusCode::UNAUTHORIZED, Html(super::ui::login_html(Some("That token is not right."))))
            .into_response();
    }
    let id = auth.new_session();
    let cookie = format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/ui/")).into_response()
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie_session(&headers) {
        state.admin_auth.end_session(&id);
    }
    let cookie = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}
