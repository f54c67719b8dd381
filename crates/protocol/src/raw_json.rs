//! Shallow view of a JSON request body: the top-level object's keys with their
//! values left as raw, unparsed slices. The passthrough path reads `model` and
//! `stream` and rewrites `model` without building a tree of the whole
//! conversation (serde still validates the nested JSON while skipping it).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RawJsonError {
    #[error("request body is not valid JSON: {0}")]
    Syntax(String),
    #[error("request body must be a JSON object")]
    NotAnObject,
    #[error("`{field}` {problem}")]
    Field { field: String, problem: String },
}

impl RawJsonError {
    fn field(field: &str, problem: impl Into<String>) -> Self {
        Self::Field { field: field.to_string(), problem: problem.into() }
    }

    /// The request field at fault, for error bodies' `param`.
    pub fn param(&self) -> Option<&str> {
        match self {
            Self::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// Top-level members of a JSON object, in order, values unparsed.
#[derive(Debug)]
pub struct RawObject<'a> {
    members: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> RawObject<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, RawJsonError> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let members = match de.deserialize_any(MembersVisitor) {
            Ok(m) => m,
            Err(e) if e.is_data() => return Err(RawJsonError::NotAnObject),
            Err(e) => return Err(RawJsonError::Syntax(e.to_string())),
        };
        de.end().map_err(|e| RawJsonError::Syntax(e.to_string()))?;
        Ok(Self { members })
    }

    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// A required string member.
    pub fn required_str(&self, key: &str) -> Result<String, RawJsonError> {
        match self.get(key) {
            None => Err(RawJsonError::field(key, "is required")),
            Some(raw) => serde_json::from_str::<String>(raw.get())
                .map_err(|_| RawJsonError::field(key, format!("must be a string, got {}", kind_of(raw)))),
        }
    }

    /// An optional boolean member; `null` counts as absent.
    pub fn optional_bool(&self, key: &str) -> Result<Option<bool>, RawJsonError> {
        match self.get(key) {
            None => Ok(None),
            Some(raw) if raw.get() == "null" => Ok(None),
            Some(raw) => serde_json::from_str::<bool>(raw.get())
                .map(Some)
                .map_err(|_| RawJsonError::field(key, format!("must be a boolean, got {}", kind_of(raw)))),
        }
    }

    /// Checks a member is a non-empty array, without parsing its items.
    pub fn require_non_empty_array(&self, key: &str) -> Result<(), RawJsonError> {
        let Some(raw) = self.get(key) else {
            return Err(RawJsonError::field(key, "is required"));
        };
        let text = raw.get();
        if !text.starts_with('[') {
            return Err(RawJsonError::field(key, format!("must be an array, got {}", kind_of(raw))));
        }
        if text[1..].trim_start().starts_with(']') {
            return Err(RawJsonError::field(key, "must contain at least one item"));
        }
        Ok(())
    }

    /// Parses a member into a typed value.
    pub fn parse_member<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, RawJsonError> {
        match self.get(key) {
            None => Ok(None),
            Some(raw) => serde_json::from_str(raw.get())
                .map(Some)
                .map_err(|e| RawJsonError::field(key, format!("is invalid: {e}"))),
        }
    }

    /// Re-encodes the object with `model` replaced (or removed, when `drop`
    /// names it) and the `drop` keys removed; every other member is copied
    /// byte for byte.
    pub fn rewrite(&self, model: &str, drop: &[&str]) -> Vec<u8> {
        self.rewrite_with(model, drop, &[])
    }

    /// Like [`RawObject::rewrite`], also replacing the raw JSON of some members.
    /// The object re-serialised with `model` set, `drop` removed and `replace`
    /// members set (replaced in place, or appended when absent).
    pub fn rewrite_with(&self, model: &str, drop: &[&str], replace: &[(String, Vec<u8>)]) -> Vec<u8> {
        let size: usize = self.members.iter().map(|(k, v)| k.len() + v.get().len() + 4).sum();
        let mut out = Vec::with_capacity(size + model.len() + 16);
        out.push(b'{');
        let mut first = true;
        let mut wrote_model = false;
        for (key, value) in &self.members {
            if drop.iter().any(|d| d == key) {
                continue;
            }
            let is_model = key == "model";
            if is_model && wrote_model {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            write_json_string(&mut out, key);
            out.push(b':');
            if is_model {
                write_json_string(&mut out, model);
                wrote_model = true;
            } else if let Some((_, raw)) = replace.iter().find(|(k, _)| k == key) {
                out.extend_from_slice(raw);
            } else {
                out.extend_from_slice(value.get().as_bytes());
            }
        }
        // A `drop` that names `model` means the upstream takes it from elsewhere (the URL).
        if !wrote_model && !drop.contains(&"model") {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(b"\"model\":");
            write_json_string(&mut out, model);
        }
        // Replacements for members the client did not send are added.
        for (key, raw) in replace {
            if !self.members.iter().any(|(k, _)| k == key) && !drop.contains(&key.as_str()) {
                out.push(b',');
                write_json_string(&mut out, key);
                out.push(b':');
                out.extend_from_slice(raw);
            }
        }
        out.push(b'}');
        out
    }
}

fn write_json_string(out: &mut Vec<u8>, s: &str) {
    // Serialising a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn kind_of(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(16);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let value: &'de RawValue = map.next_value()?;
            members.push((key, value));
        }
        Ok(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_model_and_keeps_everything_else_verbatim() {
        let body = br#"{"model":"dbx/llama","messages":[{"role":"user","content":"h\u00e9 \"x\""}],"stream":true, "n" : 1.50}"#;
        let obj = RawObject::parse(body).ok();
        let out = obj.map(|o| o.rewrite("llama", &[]));
        assert_eq!(
            out.as_deref().map(String::from_utf8_lossy).as_deref(),
            Some(r#"{"model":"llama","messages":[{"role":"user","content":"h\u00e9 \"x\""}],"stream":true,"n":1.50}"#)
        );
    }

    #[test]
    fn drops_fields_and_adds_model_when_missing() {
        let obj = RawObject::parse(br#"{"store":false,"messages":[1]}"#).ok();
        let out = obj.map(|o| o.rewrite("m\"q", &["store"]));
        assert_eq!(out.as_deref(), Some(&br#"{"messages":[1],"model":"m\"q"}"#[..]));
    }

    #[test]
    fn escaped_keys_are_understood() {
        let obj = RawObject::parse(br#"{"mod\u0065l":"p/m","stream":null}"#).ok();
        assert_eq!(obj.as_ref().map(|o| o.required_str("model")), Some(Ok("p/m".to_string())));
        assert_eq!(obj.map(|o| o.optional_bool("stream")), Some(Ok(None)));
    }

    #[test]
    fn reports_syntax_errors_with_position() {
        let err = RawObject::parse(b"{\"model\": \"x\",\n  \"messages\": [}").err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("line 2"), "{msg}");
        assert!(matches!(RawObject::parse(b"[1,2]"), Err(RawJsonError::NotAnObject)));
        assert!(matches!(RawObject::parse(b"\"s\""), Err(RawJsonError::NotAnObject)));
        assert!(matches!(RawObject::parse(b"{} x"), Err(RawJsonError::Syntax(_))));
        assert!(matches!(RawObject::parse(b""), Err(RawJsonError::Syntax(_))));
    }

    #[test]
    fn field_checks_name_the_field() {
        let obj = RawObject::parse(br#"{"model":5,"stream":"yes","messages":[ ]}"#);
        let obj = obj.unwrap();
        assert_eq!(
            obj.required_str("model").err().map(|e| e.to_string()).as_deref(),
            Some("`model` must be a string, got a number")
        );
        assert_eq!(
            obj.optional_bool("stream").err().and_then(|e| e.param().map(str::to_string)).as_deref(),
            Some("stream")
        );
        assert_eq!(
            obj.require_non_empty_array("messages").err().map(|e| e.to_string()).as_deref(),
            Some("`messages` must contain at least one item")
        );
        assert!(obj.require_non_empty_array("tools").is_err());
    }
}
