//! Which client headers travel upstream. Credentials never do: the client's
//! `Authorization` / `x-api-key` authenticate to Switchyard, not to the
//! provider. Everything else passes only through this explicit allow-list.

use http::{HeaderMap, HeaderName};

/// Client headers forwarded upstream (tracing correlation only); name
/// objects, so a lookup does not parse the name again.
pub static FORWARDED_CLIENT_HEADERS: [HeaderName; 3] = [
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
    HeaderName::from_static("x-request-id"),
];

/// The token of an `Authorization: Bearer …` header (the scheme is case-insensitive).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub fn forwarded(client: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in &FORWARDED_CLIENT_HEADERS {
        if let Some(v) = client.get(name) {
            out.insert(name.clone(), v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_unknown_headers_are_dropped() {
        let mut h = HeaderMap::new();
        h.insert("authorization", http::HeaderValue::from_static("Bearer client-secret"));
        h.insert("x-api-key", http::HeaderValue::from_static("client-key"));
        h.insert("cookie", http::HeaderValue::from_static("a=b"));
        h.insert("x-request-id", http::HeaderValue::from_static("req-1"));
        let f = forwarded(&h);
        assert_eq!(f.len(), 1);
        assert_eq!(f.get("x-request-id").and_then(|v| v.to_str().ok()), Some("req-1"));
    }
}
