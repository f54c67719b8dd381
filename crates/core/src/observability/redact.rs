//! Redaction of stored payloads: configured JSON paths, and anything that
//! looks like a credential — a member named like one (`api_key`,
//! `password`, `authorization`, …) or a string shaped like one (provider
//! keys, bearer tokens, JWTs, private keys). Then each side is capped.
//! Runs in the log writer, never on a request's path.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::record::StoredPayload;
use crate::capture::CapturedPayload;

pub const MASK: &str = "[REDACTED]";

/// One step of a redaction path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Member(String),
    Index(usize),
    Every,
}

/// `messages[*].content`, `metadata.user_id`, `input[0]`, `tools[*].function.description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(Vec<Step>);

impl JsonPath {
    pub fn parse(path: &str) -> Result<Self, String> {
        let mut steps = Vec::new();
        for part in path.split('.') {
            let (name, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
            if !name.is_empty() {
                steps.push(Step::Member(name.to_string()));
            } else if rest.is_empty() {
                return Err(format!("{path:?} has an empty member name"));
            }
            while let Some(after) = rest.strip_prefix('[') {
                let Some(close) = after.find(']') else {
                    return Err(format!("{path:?} has an unclosed `[`"));
                };
                let inside = &after[..close];
                steps.push(match inside {
                    "*" => Step::Every,
                    n => Step::Index(n.parse().map_err(|_| format!("{path:?}: `[{n}]` is neither an index nor `*`"))?),
                });
                rest = &after[close + 1..];
            }
            if !rest.is_empty() {
                return Err(format!("{path:?}: unexpected {rest:?} after `]`"));
            }
        }
        if steps.is_empty() {
            return Err("an empty path".into());
        }
        Ok(Self(steps))
    }

    fn apply(&self, v: &mut Value) {
        fn walk(steps: &[Step], v: &mut Value) {
            let Some((first, rest)) = steps.split_first() else {
                *v = Value::String(MASK.into());
                return;
            };
            match (first, v) {
                (Step::Member(m), Value::Object(o)) => {
                    if let Some(child) = o.get_mut(m) {
                        walk(rest, child);
                    }
                }
                (Step::Index(i), Value::Array(a)) => {
                    if let Some(child) = a.get_mut(*i) {
                        walk(rest, child);
                    }
                }
                (Step::Every, Value::Array(a)) => a.iter_mut().for_each(|c| walk(rest, c)),
                (Step::Every, Value::Object(o)) => o.values_mut().for_each(|c| walk(rest, c)),
                _ => {}
            }
        }
        walk(&self.0, v);
    }
}

/// Member names whose values are credentials, compared without case, `-` or `_`.
const SECRET_MEMBERS: &[&str] = &[
    "apikey",
    "xapikey",
    "password",
    "passwd",
    "secret",
    "clientsecret",
    "token",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "sessiontoken",
    "authorization",
    "privatekey",
    "accesskey",
    "secretaccesskey",
];

fn secret_member(name: &str) -> bool {
    let n: String = name.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect();
    SECRET_MEMBERS.contains(&n.as_str())
}

/// Strings shaped like credentials. Each is specific enough not to eat prose.
/// (A literal pattern: its tests prove it compiles, so `None` never happens.)
static CREDENTIAL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
        r"|\bsk-[A-Za-z0-9_\-]{16,}",
        r"|\bdapi[0-9a-f]{32}(?:-\d+)?",
        r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
        r"|\bgh[pousr]_[A-Za-z0-9]{30,}",
        r"|\bgithub_pat_[A-Za-z0-9_]{30,}",
        r"|\bxox[abprs]-[A-Za-z0-9\-]{10,}",
        r"|\bAIza[0-9A-Za-z_\-]{35}",
        r"|\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        r"|(?i:\bbearer\s+)[A-Za-z0-9._~+/=\-]{16,}",
    ))
    .ok()
});

/// A secret-named JSON member in text that is not (or no longer, once cut) whole JSON.
static SECRET_MEMBER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?i)("(?:x-?)?api[_-]?key"|"password"|"passwd"|"secret"|"client[_-]?secret"|"token"|"(?:access|refresh|id|session)[_-]?token""#,
        r#"|"authorization"|"private[_-]?key"|"(?:secret[_-]?)?access[_-]?key")\s*:\s*"(?:[^"\\]|\\.)*(?:"|$)"#,
    ))
    .ok()
});

/// `text` with every credential-shaped run, and every secret-named JSON member's value, masked.
pub fn mask_credentials(text: &str) -> std::borrow::Cow<'_, str> {
    let shaped = match CREDENTIAL.as_ref() {
        Some(re) => re.replace_all(text, MASK),
        None => std::borrow::Cow::Borrowed(text),
    };
    match SECRET_MEMBER.as_ref() {
        Some(re) if re.is_match(&shaped) => {
            std::borrow::Cow::Owned(re.replace_all(&shaped, format!("$1:\"{MASK}\"").as_str()).into_owned())
        }
        _ => shaped,
    }
}

fn mask_value(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(masked) = mask_credentials(s) {
                *s = masked;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask_value),
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                if secret_member(k) && !child.is_null() {
                    *child = Value::String(MASK.into());
                } else {
                    mask_value(child);
                }
            }
        }
        _ => {}
    }
}

/// How stored payloads are redacted and capped.
#[derive(Debug, Clone)]
pub struct Redaction {
    pub paths: Vec<JsonPath>,
    pub credentials: bool,
    pub max_bytes: usize,
}

impl Redaction {
    /// From the `logging` settings (paths were checked at load; a bad one is skipped).
    pub fn new(paths: &[String], credentials: bool, max_bytes: usize) -> Self {
        Self { paths: paths.iter().filter_map(|p| JsonPath::parse(p).ok()).collect(), credentials, max_bytes }
    }

    /// One side: JSON is redacted structurally, anything else as text; then cut.
    fn side(&self, body: &[u8], already_cut: bool) -> (String, bool) {
        let text = match serde_json::from_slice::<Value>(body) {
            Ok(mut v) if !already_cut => {
                for p in &self.paths {
                    p.apply(&mut v);
                }
                if self.credentials {
                    mask_value(&mut v);
                }
                serde_json::to_string(&v).unwrap_or_default()
            }
            _ => {
                let t = String::from_utf8_lossy(body);
                if self.credentials {
                    mask_credentials(&t).into_owned()
                } else {
                    t.into_owned()
                }
            }
        };
        if text.len() <= self.max_bytes {
            return (text, already_cut);
        }
        let mut end = self.max_bytes;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        (text[..end].to_string(), true)
    }

    pub fn apply(&self, p: &CapturedPayload) -> StoredPayload {
        let (request, request_truncated) = self.side(&p.request, p.request_cut);
        let (response, response_truncated) = self.side(&p.response, p.response_cut);
        StoredPayload { request, response, request_truncated, response_truncated }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn captured(request: &str, response: &str) -> CapturedPayload {
        CapturedPayload {
            request: Bytes::from(request.to_string()),
            response: Bytes::from(response.to_string()),
            request_cut: false,
            response_cut: false,
        }
    }

    #[test]
    fn planted_secrets_never_survive() {
        assert!(CREDENTIAL.is_some() && SECRET_MEMBER.is_some(), "the patterns compile");
        let r = Redaction::new(&["metadata.user_id".into(), "messages[*].name".into()], true, 65536);
        let req = r#"{"model":"m","max_tokens":50,"metadata":{"user_id":"alice@example.com"},
            "messages":[{"role":"user","name":"alice","content":"my key is sk-proj-ABCDEFGHIJKLMNOPQRSTUV and db dapi0123456789abcdef0123456789abcdef, aws AKIAABCDEFGHIJKLMNOP, Bearer abcdefghijklmnopqrstuvwx"}],
            "api_key":"plain-secret-value","tool":{"client_secret":"s3cr3t"}}"#;
        let out =
            r.apply(&captured(req, "not json: token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk"));
        for secret in [
            "sk-proj-ABCD",
            "dapi0123",
            "AKIAABCD",
            "abcdefghijklmnopqrstuvwx",
            "plain-secret-value",
            "s3cr3t",
            "alice",
            "eyJhbGci",
        ] {
            assert!(!out.request.contains(secret) && !out.response.contains(secret), "{secret} leaked: {out:?}");
        }
        let v: Value = serde_json::from_str(&out.request).unwrap();
        assert_eq!(v["max_tokens"], 50, "a member named like a token count is not a token");
        assert_eq!(v["metadata"]["user_id"], MASK);
        assert!(v["messages"][0]["content"].as_str().unwrap().starts_with("my key is [REDACTED]"));
    }

    #[test]
    fn a_body_that_is_not_whole_json_is_still_masked_by_member_name() {
        let r = Redaction::new(&[], true, 65536);
        let cut = CapturedPayload { request_cut: true, ..captured(r#"{"x":1,"Api-Key": "k\"ey1","password":"pw"#, "") };
        let out = r.apply(&cut);
        assert!(!out.request.contains("ey1") && !out.request.contains("\"pw"), "{}", out.request);
        assert!(out.request_truncated);
        assert!(out.request.contains(r#""x":1"#));
    }

    #[test]
    fn each_side_is_cut_at_the_cap_on_a_char_boundary() {
        let r = Redaction::new(&[], false, 10);
        let out = r.apply(&captured("ééééééééé", "short"));
        assert!(out.request.len() <= 10 && out.request_truncated);
        assert_eq!((out.response.as_str(), out.response_truncated), ("short", false));
    }

    #[test]
    fn paths_parse_or_say_why() {
        assert!(JsonPath::parse("messages[*].content").is_ok());
        assert!(JsonPath::parse("input[0]").is_ok());
        assert!(JsonPath::parse("a[x]").unwrap_err().contains("[x]"));
        assert!(JsonPath::parse("a[1").unwrap_err().contains("unclosed"));
        assert!(JsonPath::parse("a..b").is_err());
    }
}
