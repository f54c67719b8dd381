//! Upstream URL rule: an absolute override is used as is; otherwise
//! `base_url + (override path or default path)`, and a base URL that already
//! ends in `/v1` does not get a second one. An override may name the model
//! with `{model}` (Azure OpenAI deployments, Databricks serving endpoints):
//! replaced per request by the upstream model name as one path segment.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use url::Url;

/// Stands for the upstream model name in a path override or full URL.
pub const MODEL: &str = "{model}";

/// What stays as it is in a path segment (RFC 3986 unreserved); everything
/// else, `/` included, is percent-encoded, so a model name is one segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A per-request-type override: a path appended to the base URL, or a full URL
/// (which may be on another host), as written (`{model}` left in place).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathOverride {
    Path(String),
    Absolute(String),
}

impl PathOverride {
    /// Parses an override as written in config. `None` means neither a path
    /// starting with `/` nor an absolute http(s) URL.
    pub fn parse(s: &str) -> Option<Self> {
        // Checked with the placeholder filled, as it will be sent.
        let filled = s.replace(MODEL, "model");
        if s.starts_with('/') {
            return (!has_control_or_space(&filled)).then(|| Self::Path(s.to_string()));
        }
        parse_http_url(&filled).ok().map(|_| Self::Absolute(s.to_string()))
    }
}

/// The first `{…}` in an override that is not `{model}`, if any: a typo
/// such as `{deployment}` would otherwise be sent as it is.
pub fn unknown_placeholder(s: &str) -> Option<String> {
    let rest = s.replace(MODEL, "");
    let open = rest.find(['{', '}'])?;
    let end = rest[open..].find('}').map_or(rest.len(), |e| open + e + 1);
    Some(rest[open..end].to_string())
}

/// Whether a resolved URL names the model (and must be expanded per request).
pub fn has_model(url: &str) -> bool {
    url.contains(MODEL)
}

/// `url` with every `{model}` replaced by `model`, percent-encoded as one segment.
pub fn expand(url: &str, model: &str) -> String {
    url.replace(MODEL, &utf8_percent_encode(model, SEGMENT).to_string())
}

fn has_control_or_space(s: &str) -> bool {
    s.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// An absolute http(s) URL with a host, checked on the text as written: the
/// `url` crate silently drops CR/LF/tab and reads `http:///x` as host `x`,
/// which would hide a typo (or an injection) in the configured value.
pub fn parse_http_url(s: &str) -> Result<Url, &'static str> {
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err("is not an http(s) URL");
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return Err("is not an http(s) URL");
    }
    if has_control_or_space(s) {
        return Err("contains a space or control character (CR, LF, tab)");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err("has no host after `://`");
    }
    let url = Url::parse(s).map_err(|_| "is not a valid URL")?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host after `://`");
    }
    Ok(url)
}

/// Joins a base URL (no trailing slash) and a path, never producing `/v1/v1`.
pub fn join(base_url: &str, path: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let path = if base.ends_with("/v1") && (path.starts_with("/v1/") || path == "/v1") { &path[3..] } else { path };
    format!("{base}{path}")
}

pub fn resolve(base_url: &str, override_: Option<&PathOverride>, default_path: &str) -> String {
    match override_ {
        Some(PathOverride::Absolute(url)) => url.clone(),
        Some(PathOverride::Path(p)) => join(base_url, p),
        None => join(base_url, default_path),
    }
}

/// A Unity Catalog model list filtered by schema without its catalog: UC
/// refuses it (`catalog_name is required when schema_name is given`).
pub fn unity_catalog_filter_problem(list_url: &str) -> Option<String> {
    let (path, query) = list_url.split_once('?')?;
    if !path.trim_end_matches('/').ends_with("/unity-catalog/models") {
        return None;
    }
    let has = |name: &str| form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == name && !v.is_empty());
    (has("schema_name") && !has("catalog_name"))
        .then(|| "filters Unity Catalog models by schema_name without catalog_name, which Unity Catalog refuses".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_path_is_appended() {
        assert_eq!(
            resolve("https://x.ai-gateway.cloud.databricks.com/mlflow", None, "/v1/chat/completions"),
            "https://x.ai-gateway.cloud.databricks.com/mlflow/v1/chat/completions"
        );
    }

    #[test]
    fn never_doubles_v1() {
        assert_eq!(resolve("https://api.example.com/v1", None, "/v1/models"), "https://api.example.com/v1/models");
        assert_eq!(resolve("https://api.example.com/v1/", None, "/v1/models"), "https://api.example.com/v1/models");
        assert_eq!(join("https://h/v1", "/v1"), "https://h/v1");
        // A path segment merely ending in v1 is not /v1.
        assert_eq!(join("https://h/apiv1", "/v1/models"), "https://h/apiv1/v1/models");
    }

    #[test]
    fn path_override_replaces_default_path() {
        let o = PathOverride::parse("/serving-endpoints/chat").unwrap_or(PathOverride::Path(String::new()));
        assert_eq!(
            resolve("https://h/base/", Some(&o), "/v1/chat/completions"),
            "https://h/base/serving-endpoints/chat"
        );
    }

    #[test]
    fn absolute_override_may_be_on_another_host() {
        let o = PathOverride::parse("https://adb-1.azuredatabricks.net/api/2.1/unity-catalog/models?max_results=50");
        let url = o.as_ref().map(|o| resolve("https://gw.example/mlflow", Some(o), "/v1/models"));
        assert_eq!(
            url.as_deref(),
            Some("https://adb-1.azuredatabricks.net/api/2.1/unity-catalog/models?max_results=50")
        );
    }

    #[test]
    fn rejects_hostless_and_control_character_urls() {
        for bad in [
            "http:///x",
            "https://",
            "http://:80/x",
            "http://user@/x",
            "http://h/a\r\nX-Evil: 1",
            "http://h/\tx",
            "ftp://h/",
        ] {
            assert!(parse_http_url(bad).is_err(), "{bad:?}");
            assert!(PathOverride::parse(bad).is_none(), "{bad:?}");
        }
        assert!(PathOverride::parse("/v1/chat\r\n").is_none());
        assert_eq!(parse_http_url("https://h.example:8443/mlflow").unwrap().host_str(), Some("h.example"));
    }

    #[test]
    fn model_placeholder_is_one_encoded_segment() {
        let o = PathOverride::parse("/openai/deployments/{model}/chat/completions?api-version=2024-10-21").unwrap();
        let url = resolve("https://r.openai.azure.com", Some(&o), "/v1/chat/completions");
        assert!(has_model(&url));
        assert_eq!(
            expand(&url, "gpt-4o mini/2"),
            "https://r.openai.azure.com/openai/deployments/gpt-4o%20mini%2F2/chat/completions?api-version=2024-10-21"
        );
        let abs =
            PathOverride::parse("https://adb-1.azuredatabricks.net/serving-endpoints/{model}/invocations").unwrap();
        let url = resolve("https://gw", Some(&abs), "");
        assert_eq!(
            expand(&url, "databricks-claude-sonnet-4"),
            "https://adb-1.azuredatabricks.net/serving-endpoints/databricks-claude-sonnet-4/invocations"
        );
        assert!(!has_model("https://h/v1/chat/completions"));
    }

    #[test]
    fn other_placeholders_are_named() {
        assert_eq!(unknown_placeholder("/deployments/{model}/chat"), None);
        assert_eq!(unknown_placeholder("/deployments/{deployment}/chat").as_deref(), Some("{deployment}"));
        assert_eq!(unknown_placeholder("/a/{model}/{Model}").as_deref(), Some("{Model}"));
        assert_eq!(unknown_placeholder("/a/{model").as_deref(), Some("{model"));
        assert_eq!(unknown_placeholder("/a/}").as_deref(), Some("}"));
    }

    #[test]
    fn rejects_overrides_that_are_neither_path_nor_url() {
        assert_eq!(PathOverride::parse("v1/models"), None);
        assert_eq!(PathOverride::parse("ftp://h/x"), None);
        assert_eq!(PathOverride::parse("mailto:a@b"), None);
        assert_eq!(PathOverride::parse(""), None);
    }
}
