//! Reading dialect JSON with errors that name the field at fault.

use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A request the target dialect cannot take, or a malformed field. `param` is
/// the JSON path of the field at fault, for error bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConvertError {
    pub message: String,
    pub param: Option<String>,
}

impl ConvertError {
    pub fn new(param: impl Into<String>, message: impl Into<String>) -> Self {
        let param = param.into();
        Self { message: message.into(), param: (!param.is_empty()).then_some(param) }
    }

    /// `<path> must be <what>, got <kind>`.
    pub fn type_error(path: &str, what: &str, got: &Value) -> Self {
        Self::new(path, format!("`{path}` must be {what}, got {}", kind(got)))
    }
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An object being read, with its path for errors.
#[derive(Clone, Copy)]
pub struct Fields<'a> {
    pub obj: &'a Map<String, Value>,
    path: &'a str,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Fields<'a> {
    pub fn of(v: &'a Value, path: &'a str) -> Result<Self, ConvertError> {
        match v {
            Value::Object(obj) => Ok(Self { obj, path }),
            other => Err(ConvertError::type_error(if path.is_empty() { "body" } else { path }, "an object", other)),
        }
    }

    pub fn path(&self, key: &str) -> String {
        join(self.path, key)
    }

    /// A present, non-null member.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    pub fn str(&self, key: &str) -> Result<Option<&'a str>, ConvertError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ConvertError::type_error(&self.path(key), "a string", other)),
        }
    }

    pub fn req_str(&self, key: &str) -> Result<&'a str, ConvertError> {
        self.str(key)?.ok_or_else(|| ConvertError::new(self.path(key), format!("`{}` is required", self.path(key))))
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ConvertError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(ConvertError::type_error(&self.path(key), "a boolean", other)),
        }
    }

    pub fn f64(&self, key: &str) -> Result<Option<f64>, ConvertError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(ConvertError::type_error(&self.path(key), "a number", other)),
        }
    }

    pub fn u32(&self, key: &str) -> Result<Option<u32>, ConvertError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_u64().and_then(|v| u32::try_from(v).ok()).map(Some).ok_or_else(|| {
                ConvertError::new(self.path(key), format!("`{}` must be a non-negative integer", self.path(key)))
            }),
            Some(other) => Err(ConvertError::type_error(&self.path(key), "an integer", other)),
        }
    }

    pub fn array(&self, key: &str) -> Result<Option<&'a Vec<Value>>, ConvertError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(ConvertError::type_error(&self.path(key), "an array", other)),
        }
    }

    pub fn object(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, ConvertError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(other) => Err(ConvertError::type_error(&self.path(key), "an object", other)),
        }
    }
}

/// `stop`: a string or an array of strings.
pub fn string_or_array(v: Option<&Value>, path: &str) -> Result<Vec<String>, ConvertError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(ConvertError::type_error(&format!("{path}[{i}]"), "a string", other)),
            })
            .collect(),
        Some(other) => Err(ConvertError::type_error(path, "a string or an array of strings", other)),
    }
}

/// The string a raw JSON member holds, borrowed when it has no escapes; `None`
/// for a missing member, null or any other type (stream decoders read members
/// this way instead of building a tree per event).
pub fn raw_str(raw: Option<&RawValue>) -> Option<Cow<'_, str>> {
    let raw = raw?.get();
    if !raw.starts_with('"') {
        return None;
    }
    match serde_json::from_str::<&str>(raw) {
        Ok(s) => Some(Cow::Borrowed(s)),
        Err(_) => serde_json::from_str::<String>(raw).ok().map(Cow::Owned),
    }
}
