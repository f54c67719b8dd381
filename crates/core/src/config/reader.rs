//! Small helpers to read a JSON tree field by field, collecting every problem
//! (with its path) instead of stopping at the first.

use serde_json::{Map, Value};

use super::diagnostic::{ConfigDiagnostic, Severity};

#[derive(Default)]
pub(crate) struct Diags {
    pub list: Vec<ConfigDiagnostic>,
}

impl Diags {
    pub fn error(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        self.push(Severity::Error, path, message.into(), hint);
    }

    pub fn warn(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        self.push(Severity::Warning, path, message.into(), hint);
    }

    fn push(&mut self, severity: Severity, path: &str, message: String, hint: Option<String>) {
        self.list.push(ConfigDiagnostic { severity, path: path.to_string(), message, hint });
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The closest candidate to a misspelt name, if one is close enough.
pub(crate) fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input_l = input.to_ascii_lowercase();
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    // An abbreviation (`chat` for `chat_completion`) is a better hint than an edit distance.
    if input.len() >= 3 {
        if let Some(c) =
            candidates.iter().filter(|c| c.to_ascii_lowercase().starts_with(&input_l)).min_by_key(|c| c.len())
        {
            return Some(c);
        }
    }
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&input_l, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(input.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Reports keys that are neither supported nor known-unsupported (error, with
/// a did-you-mean hint) and keys that are known but unsupported (warning).
pub(crate) fn check_keys(map: &Map<String, Value>, path: &str, known: &[&str], unsupported: &[&str], d: &mut Diags) {
    for key in map.keys() {
        if known.contains(&key.as_str()) {
            continue;
        }
        let at = join(path, key);
        if unsupported.contains(&key.as_str()) {
            d.warn(&at, "is a Bifrost setting Switchyard does not support yet; it is ignored", None);
            continue;
        }
        let hint = match did_you_mean(key, known.iter().copied()) {
            Some(s) => Some(format!("did you mean `{s}`?")),
            None => Some(format!("known fields here: {}", known.join(", "))),
        };
        d.error(&at, format!("unknown field `{key}`"), hint);
    }
}

pub(crate) fn wrong_type(d: &mut Diags, path: &str, expected: &str, got: &Value) {
    d.error(path, format!("must be {expected}, got {}", switchyard_protocol::canonical::kind(got)), None);
}

pub(crate) fn opt_object<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    path: &str,
    d: &mut Diags,
) -> Option<&'a Map<String, Value>> {
    match map.get(key)? {
        Value::Object(o) => Some(o),
        Value::Null => None,
        other => {
            wrong_type(d, &join(path, key), "an object", other);
            None
        }
    }
}

pub(crate) fn opt_str(map: &Map<String, Value>, key: &str, path: &str, d: &mut Diags) -> Option<String> {
    match map.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => {
            wrong_type(d, &join(path, key), "a string", other);
            None
        }
    }
}

pub(crate) fn opt_bool(map: &Map<String, Value>, key: &str, path: &str, d: &mut Diags) -> Option<bool> {
    match map.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::Null => None,
        other => {
            wrong_type(d, &join(path, key), "true or false", other);
            None
        }
    }
}

/// An integer within `[min, max]`.
pub(crate) fn opt_int(
    map: &Map<String, Value>,
    key: &str,
    path: &str,
    min: u64,
    max: u64,
    d: &mut Diags,
) -> Option<u64> {
    let v = map.get(key)?;
    let at = join(path, key);
    match v {
        Value::Null => None,
        Value::Number(n) => match n.as_u64() {
            Some(i) if (min..=max).contains(&i) => Some(i),
            _ => {
                d.error(&at, format!("must be a whole number from {min} to {max}, got {n}"), None);
                None
            }
        },
        other => {
            wrong_type(d, &at, "a whole number", other);
            None
        }
    }
}

pub(crate) fn opt_f64(map: &Map<String, Value>, key: &str, path: &str, d: &mut Diags) -> Option<f64> {
    match map.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::Null => None,
        other => {
            wrong_type(d, &join(path, key), "a number", other);
            None
        }
    }
}

pub(crate) fn opt_str_array(map: &Map<String, Value>, key: &str, path: &str, d: &mut Diags) -> Option<Vec<String>> {
    let at = join(path, key);
    match map.get(key)? {
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    other => wrong_type(d, &format!("{at}[{i}]"), "a string", other),
                }
            }
            Some(out)
        }
        Value::Null => None,
        other => {
            wrong_type(d, &at, "an array of strings", other);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let known = ["base_url", "extra_headers", "max_retries"];
        assert_eq!(did_you_mean("base_ulr", known), Some("base_url"));
        assert_eq!(did_you_mean("extra_header", known), Some("extra_headers"));
        assert_eq!(did_you_mean("Max_Retries", known), Some("max_retries"));
        assert_eq!(did_you_mean("colour", known), None);
    }
}
