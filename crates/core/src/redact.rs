//! Credentials inside URLs. A base URL may carry `user:password@` and an
//! override URL a query-string secret (`?code=…`): wherever a URL is shown
//! (API, UI, logs, `/test`), the userinfo and every query value are masked,
//! but for the few parameters known to be no secret ([`PLAIN_QUERY`]).

/// Query parameters whose values are shown: list filters and API versions.
const PLAIN_QUERY: &[&str] = &["catalog_name", "schema_name", "page_size", "max_results", "api-version", "beta"];

/// What a masked part reads as.
pub const MARKER: &str = "********";

/// `url` with its userinfo and query values masked; a string that does not
/// parse as a URL is returned unchanged when it has neither `@` nor `?`, and
/// masked whole otherwise.
pub fn url(raw: &str) -> String {
    let Ok(mut u) = url::Url::parse(raw) else {
        return if raw.contains('@') || raw.contains('?') { MARKER.to_string() } else { raw.to_string() };
    };
    if u.password().is_none() && u.username().is_empty() && u.query().is_none() {
        return raw.to_string();
    }
    if u.password().is_some() {
        let _ = u.set_password(Some(MARKER));
    } else if !u.username().is_empty() {
        // A lone user name is often a token (`https://<token>@host`).
        let _ = u.set_username(MARKER);
    }
    if u.query().is_some() {
        let masked: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let shown = v.is_empty() || PLAIN_QUERY.contains(&k.as_ref());
                let v = if shown { v.into_owned() } else { MARKER.to_string() };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(masked);
    }
    // `url` re-encodes the marker in userinfo; show it as written.
    u.to_string().replace("%2A%2A%2A%2A%2A%2A%2A%2A", MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_userinfo_and_query_values() {
        assert_eq!(
            url("https://u:pw@h.example/x?code=abc&v=1"),
            "https://u:********@h.example/x?code=********&v=********"
        );
        assert_eq!(url("https://tok@h.example/"), "https://********@h.example/");
        assert_eq!(url("https://h.example/mlflow"), "https://h.example/mlflow");
        assert_eq!(url("/v1/chat?key=s"), "********");
        assert_eq!(url("/v1/chat"), "/v1/chat");
        assert_eq!(
            url("https://ws.example/api/2.1/unity-catalog/models?catalog_name=main&schema_name=default&token=t"),
            "https://ws.example/api/2.1/unity-catalog/models?catalog_name=main&schema_name=default&token=********",
            "list filters are no secret"
        );
    }
}
