//! Reads a readable message out of an upstream error body, whichever dialect
//! it is in: OpenAI `{"error":{"message"}}`, Anthropic `{"type":"error","error":{…}}`,
//! Databricks `{"error_code","message"}`, or a plain string.

use serde_json::Value;

/// What an upstream said went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamErrorDetail {
    pub message: String,
    /// `error.type` (OpenAI/Anthropic) when present.
    pub kind: Option<String>,
    /// `error.code` (OpenAI) or Databricks `error_code`, when a string.
    pub code: Option<String>,
}

const MAX_MESSAGE: usize = 2000;

pub fn parse_upstream_error(body: &[u8]) -> UpstreamErrorDetail {
    parse_status_error(body, None)
}

/// Like [`parse_upstream_error`], for an answer whose status is known: an
/// empty body (Databricks answers some limits with a bare 429) reads as the
/// status's reason phrase, e.g. `Too Many Requests`.
pub fn parse_status_error(body: &[u8], reason: Option<&str>) -> UpstreamErrorDetail {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        if let Some(detail) = from_json(&value) {
            return detail;
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    UpstreamErrorDetail {
        message: match reason {
            _ if !text.is_empty() => truncate(text),
            Some(reason) => format!("{reason} (the upstream sent no body)"),
            None => "(empty body)".to_string(),
        },
        kind: None,
        code: None,
    }
}

fn from_json(value: &Value) -> Option<UpstreamErrorDetail> {
    let obj = value.as_object()?;
    let str_of = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    match obj.get("error") {
        Some(Value::Object(err)) => {
            let message = str_of(err.get("message")).unwrap_or_else(|| Value::Object(err.clone()).to_string());
            Some(UpstreamErrorDetail {
                message: truncate(&message),
                kind: str_of(err.get("type")),
                code: str_of(err.get("code")).or_else(|| str_of(obj.get("error_code"))),
            })
        }
        Some(Value::String(message)) => {
            Some(UpstreamErrorDetail { message: truncate(message), kind: None, code: str_of(obj.get("error_code")) })
        }
        _ => {
            // Databricks: error_code may be an integer on legacy endpoints; treat that as absent.
            let code = str_of(obj.get("error_code"));
            let message = str_of(obj.get("message")).or_else(|| str_of(obj.get("detail")))?;
            let message = match code.as_deref().and_then(databricks_hint) {
                Some(hint) => format!("{} ({hint})", truncate(&message)),
                None => truncate(&message),
            };
            Some(UpstreamErrorDetail { message, kind: None, code })
        }
    }
}

/// What a Databricks `error_code` means for whoever reads the error: the
/// upstream's own message says what failed, this says where to look.
fn databricks_hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "PERMISSION_DENIED" => {
            "PERMISSION_DENIED: the provider's token or service principal may not query this endpoint; grant it CAN QUERY"
        }
        "RESOURCE_DOES_NOT_EXIST" => {
            "RESOURCE_DOES_NOT_EXIST: no such endpoint or model on this workspace; GET /v1/models lists what it serves"
        }
        "INVALID_PARAMETER_VALUE" => "INVALID_PARAMETER_VALUE: Databricks refused a value in the request",
        "BAD_REQUEST" => "BAD_REQUEST: Databricks refused the request",
        "TEMPORARILY_UNAVAILABLE" => "TEMPORARILY_UNAVAILABLE: the endpoint is scaling or restarting; retry shortly",
        "REQUEST_LIMIT_EXCEEDED" => "REQUEST_LIMIT_EXCEEDED: a Databricks rate limit on this endpoint",
        _ => return None,
    })
}

fn truncate(s: &str) -> String {
    if s.len() <= MAX_MESSAGE {
        return s.to_string();
    }
    let mut end = MAX_MESSAGE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_openai_error() {
        let d = parse_upstream_error(br#"{"error":{"message":"bad model","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#);
        assert_eq!(d.message, "bad model");
        assert_eq!(d.kind.as_deref(), Some("invalid_request_error"));
        assert_eq!(d.code.as_deref(), Some("model_not_found"));
    }

    #[test]
    fn reads_anthropic_error() {
        let d = parse_upstream_error(br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#);
        assert_eq!((d.message.as_str(), d.kind.as_deref()), ("Overloaded", Some("overloaded_error")));
    }

    #[test]
    fn reads_databricks_error_and_ignores_integer_code() {
        let d = parse_upstream_error(
            br#"{"error_code":"PERMISSION_DENIED","message":"no access to endpoint","details":[]}"#,
        );
        assert_eq!(d.code.as_deref(), Some("PERMISSION_DENIED"));
        assert!(d.message.starts_with("no access to endpoint (PERMISSION_DENIED: "), "{}", d.message);
        assert!(d.message.contains("grant it CAN QUERY"), "where to look: {}", d.message);
        let d = parse_upstream_error(br#"{"error_code":403,"message":"nope"}"#);
        assert_eq!((d.message.as_str(), d.code), ("nope", None));
    }

    #[test]
    fn falls_back_to_text() {
        assert_eq!(parse_upstream_error(b"  upstream exploded \n").message, "upstream exploded");
        assert_eq!(parse_upstream_error(b"").message, "(empty body)");
        assert_eq!(
            parse_status_error(b" \n", Some("Too Many Requests")).message,
            "Too Many Requests (the upstream sent no body)"
        );
        assert_eq!(parse_status_error(b"slow down", Some("Too Many Requests")).message, "slow down");
        let long = "x".repeat(5000);
        assert!(parse_upstream_error(long.as_bytes()).message.len() < 2100);
    }
}
