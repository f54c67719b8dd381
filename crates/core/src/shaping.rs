//! Per-provider request shaping: removing fields an upstream rejects (e.g.
//! Databricks' Unified route rejects `store` and `tools[].function.strict`).

use serde_json::Value;
use switchyard_protocol::raw_json::RawObject;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    name: String,
    /// `name[]`: apply the rest of the path to every item of the array.
    each: bool,
}

/// A dotted path such as `tools[].function.strict`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    pub fn parse(s: &str) -> Option<Self> {
        let mut segments = Vec::new();
        for part in s.split('.') {
            let (name, each) = match part.strip_suffix("[]") {
                Some(n) => (n, true),
                None => (part, false),
            };
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
            if !valid {
                return None;
            }
            segments.push(Segment { name: name.to_string(), each });
        }
        (!segments.is_empty()).then_some(Self(segments))
    }

    /// The top-level member this path starts in.
    pub fn root(&self) -> &str {
        &self.0[0].name
    }

    fn is_top_level_key(&self) -> bool {
        self.0.len() == 1 && !self.0[0].each
    }

    /// Removes the field wherever the path reaches it. Returns whether anything was removed.
    pub fn remove(&self, v: &mut Value) -> bool {
        remove_at(v, &self.0)
    }
}

fn remove_at(v: &mut Value, path: &[Segment]) -> bool {
    let Some((first, rest)) = path.split_first() else { return false };
    let Value::Object(map) = v else { return false };
    if rest.is_empty() && !first.each {
        return map.remove(&first.name).is_some();
    }
    let Some(child) = map.get_mut(&first.name) else { return false };
    if first.each {
        let Value::Array(items) = child else { return false };
        if rest.is_empty() {
            return false;
        }
        let mut any = false;
        for item in items {
            any |= remove_at(item, rest);
        }
        any
    } else {
        remove_at(child, rest)
    }
}

/// Compiled drop list of one provider.
#[derive(Debug, Clone, Default)]
pub struct DropFields(Vec<FieldPath>);

/// Body fields that speak to Switchyard, not to the model.
pub const GATEWAY_FIELDS: &[&str] = &["fallbacks"];

impl DropFields {
    pub fn new(paths: &[String]) -> Self {
        Self(paths.iter().filter_map(|p| FieldPath::parse(p)).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn apply(&self, v: &mut Value) {
        for p in &self.0 {
            p.remove(v);
        }
    }

    /// Rewrites a passthrough body: top-level drops are skipped byte-wise; a
    /// nested path parses only the member it lives in.
    /// Whether any configured drop touches the top-level member `key`.
    pub fn touches(&self, key: &str) -> bool {
        self.0.iter().any(|p| p.root() == key)
    }

    /// The passthrough body: `model` rewritten, configured and gateway fields
    /// dropped, and the gateway's own `set` members (replacing or added).
    pub fn rewrite_raw(&self, obj: &RawObject<'_>, model: &str, set: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut top: Vec<&str> = self.0.iter().filter(|p| p.is_top_level_key()).map(FieldPath::root).collect();
        // The gateway's own request fields are never sent upstream.
        top.extend_from_slice(GATEWAY_FIELDS);
        let mut replace: Vec<(String, Vec<u8>)> = Vec::new();
        for p in self.0.iter().filter(|p| !p.is_top_level_key()) {
            let root = p.root();
            if top.contains(&root) {
                continue;
            }
            let current: Option<Value> = match replace.iter().find(|(k, _)| k == root) {
                Some((_, raw)) => serde_json::from_slice(raw).ok(),
                None => obj.get(root).and_then(|raw| serde_json::from_str(raw.get()).ok()),
            };
            let Some(member) = current else { continue };
            let mut wrapper = serde_json::json!({ root: member });
            if p.remove(&mut wrapper) {
                if let Some(updated) = wrapper.get(root) {
                    let bytes = serde_json::to_vec(updated).unwrap_or_default();
                    replace.retain(|(k, _)| k != root);
                    replace.push((root.to_string(), bytes));
                }
            }
        }
        for (k, v) in set {
            replace.retain(|(r, _)| r != k);
            replace.push((k.clone(), v.clone()));
        }
        obj.rewrite_with(model, &top, &replace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_paths() {
        assert!(FieldPath::parse("store").is_some());
        assert!(FieldPath::parse("tools[].function.strict").is_some());
        assert!(FieldPath::parse("tools..x").is_none());
        assert!(FieldPath::parse("a b").is_none());
        assert!(FieldPath::parse("").is_none());
    }

    #[test]
    fn removes_nested_fields_in_every_item() {
        let mut v = json!({"store": false, "tools": [{"type": "function", "function": {"name": "a", "strict": true}}, {"function": {"name": "b"}}]});
        DropFields::new(&["store".into(), "tools[].function.strict".into()]).apply(&mut v);
        assert_eq!(v, json!({"tools": [{"type": "function", "function": {"name": "a"}}, {"function": {"name": "b"}}]}));
    }

    #[test]
    fn raw_rewrite_touches_only_the_affected_members() {
        let body = br#"{"model":"p/m","store":true,"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a","strict":false}}]}"#;
        let obj = RawObject::parse(body).unwrap();
        let out = DropFields::new(&["store".into(), "tools[].function.strict".into()]).rewrite_raw(&obj, "m", &[]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}]}"#
        );
    }
}
