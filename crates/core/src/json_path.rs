//! A small JSON path (`messages[*].content`, `metadata.user_id`, `input[0]`):
//! what payload redaction is configured with.

use serde_json::Value;

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

    /// Replaces every value the path reaches with `mask`.
    pub fn apply(&self, v: &mut Value, mask: &str) {
        fn walk(steps: &[Step], v: &mut Value, mask: &str) {
            let Some((first, rest)) = steps.split_first() else {
                *v = Value::String(mask.into());
                return;
            };
            match (first, v) {
                (Step::Member(m), Value::Object(o)) => {
                    if let Some(child) = o.get_mut(m) {
                        walk(rest, child, mask);
                    }
                }
                (Step::Index(i), Value::Array(a)) => {
                    if let Some(child) = a.get_mut(*i) {
                        walk(rest, child, mask);
                    }
                }
                (Step::Every, Value::Array(a)) => a.iter_mut().for_each(|c| walk(rest, c, mask)),
                (Step::Every, Value::Object(o)) => o.values_mut().for_each(|c| walk(rest, c, mask)),
                _ => {}
            }
        }
        walk(&self.0, v, mask);
    }
}
