//! Who may reach the server from a browser. Without these checks any web page
//! the user opens could drive the loopback admin API: a cross-site "simple"
//! request (form or `text/plain` POST) creates a provider pointing at the
//! attacker, and DNS rebinding (the attacker's host name resolving to
//! 127.0.0.1) lets the page read answers too.
//!
//! - **Host**: with the admin open (loopback, no token) every request must name
//!   a loopback host (`localhost`, `127.x.x.x`, `[::1]`) or one of the
//!   configured allowed hosts; with a token, only the configured list is
//!   enforced, when there is one. This defeats DNS rebinding.
//! - **Origin / Sec-Fetch-Site** on state-changing admin calls (`/api`,
//!   `/login`, `/logout`): a browser's cross-origin request is refused.
//! - **Content-Type**: `/api` writes with a body must be `application/json`,
//!   which no cross-site form can send without a CORS preflight (that the
//!   server never grants).

use axum::response::Response;
use http::{header, HeaderMap, Method, Request, StatusCode};

use crate::error::error_for_path;
use crate::host_policy::host_name;
use crate::state::AppState;

/// The authority the client addressed: `Host`, or HTTP/2's `:authority`.
fn request_host<B>(req: &Request<B>) -> Option<&str> {
    req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).or_else(|| req.uri().authority().map(|a| a.as_str()))
}

fn is_admin_path(path: &str) -> bool {
    path.starts_with("/api/") || path == "/login" || path == "/logout" || path == "/" || path.starts_with("/ui")
}

fn changes_state(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Why a browser request from another site is refused, if it is.
fn cross_site(headers: &HeaderMap, host: Option<&str>) -> Option<String> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // `same-site` is another origin too (another port on localhost).
        if !matches!(site, "same-origin" | "none") {
            return Some(format!("Sec-Fetch-Site: {site}"));
        }
    }
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or("null");
    let origin_host = origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/'));
    match (origin_host, host) {
        (Some(o), Some(h)) if o.eq_ignore_ascii_case(h) => None,
        _ => Some(format!("Origin: {origin}")),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next()).is_some_and(|m| {
        let m = m.trim().to_ascii_lowercase();
        m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
    })
}

fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_some_and(|n| n.trim() != "0")
}

/// The refusal for a request the checks do not let through ([`crate::edge`]
/// gives it the request id and logs it).
pub(crate) fn refuse<B>(state: &AppState, req: &Request<B>) -> Option<Response> {
    let path = req.uri().path();
    let host = request_host(req);
    if state.hosts.check && !host.is_some_and(|h| state.hosts.accepts(h)) {
        let shown = host.unwrap_or("(none)");
        let message = format!(
            "host {shown:?} is not served here: use localhost or 127.0.0.1, or start with --allowed-host {}",
            host_name(shown)
        );
        return Some(error_for_path(path, StatusCode::FORBIDDEN, message, "host_not_allowed"));
    }
    if is_admin_path(path) && changes_state(req.method()) {
        if let Some(why) = cross_site(req.headers(), host) {
            let message = format!("cross-origin request refused ({why}): the admin API only accepts requests from its own pages or non-browser clients");
            return Some(error_for_path(path, StatusCode::FORBIDDEN, message, "cross_origin"));
        }
        let api = path.starts_with("/api/");
        if api
            && (has_body(req.headers()) || req.headers().contains_key(header::CONTENT_TYPE))
            && !is_json(req.headers())
        {
            return Some(error_for_path(
                path,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the management API accepts only Content-Type: application/json".into(),
                "unsupported_media_type",
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_site_detection() {
        let mut h = HeaderMap::new();
        assert_eq!(cross_site(&h, Some("localhost:8080")), None, "non-browser clients send neither");
        h.insert(header::ORIGIN, "http://localhost:8080".parse().unwrap());
        assert_eq!(cross_site(&h, Some("localhost:8080")), None);
        assert!(cross_site(&h, Some("localhost:9090")).is_some());
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(cross_site(&h, Some("localhost:8080")).is_some());
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", "same-site".parse().unwrap());
        assert!(cross_site(&h, Some("localhost:8080")).is_some());
        h.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert_eq!(cross_site(&h, Some("localhost:8080")), None);
    }
}
