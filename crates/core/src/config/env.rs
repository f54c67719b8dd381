//! `env.NAME` references: config values read from the environment at load.
//! A value is either `env.NAME` entirely, or a prefix and a final
//! `env.NAME` word, as in `Bearer env.DATABRICKS_TOKEN`.

use super::reader::Diags;

/// Where `env.NAME` values come from (the process, or a map in tests).
pub trait EnvResolver: Send + Sync {
    fn var(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl EnvResolver for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl EnvResolver for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// Splits `value` into (literal prefix, variable name) when it references a variable.
fn split(value: &str) -> Option<(&str, &str)> {
    let (prefix, word) = match value.rfind(' ') {
        Some(i) => (&value[..=i], &value[i + 1..]),
        None => ("", value),
    };
    let name = word.strip_prefix("env.")?;
    Some((prefix, name))
}

/// The variable name when `value` references one (`""` for a bare `env.`).
pub fn env_reference(value: &str) -> Option<&str> {
    split(value).map(|(_, name)| name)
}

pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Resolves a value that may reference a variable. `Err` names the unset variable.
pub fn resolve(value: &str, env: &dyn EnvResolver) -> Result<String, String> {
    match split(value) {
        Some((prefix, name)) => env.var(name).map(|v| format!("{prefix}{v}")).ok_or_else(|| name.to_string()),
        None => Ok(value.to_string()),
    }
}

/// Checks an `env.NAME` reference resolves; returns the resolved value.
pub(super) fn check_env(value: &str, at: &str, env: &dyn EnvResolver, d: &mut Diags) -> Option<String> {
    match env_reference(value) {
        None => Some(value.to_string()),
        Some(name) if !is_valid_name(name) => {
            d.error(
                at,
                format!("`env.{name}` is not a valid environment variable reference"),
                Some("write env.NAME with NAME made of letters, digits and _".into()),
            );
            None
        }
        Some(name) => match env.var(name) {
            Some(_) => resolve(value, env).ok(),
            None => {
                d.error(
                    at,
                    format!("environment variable {name} is not set"),
                    Some(format!("export {name}=… before starting Switchyard")),
                );
                None
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn resolves_whole_and_suffix_references() {
        let env: HashMap<String, String> = [("TOK".to_string(), "dapi123".to_string())].into();
        assert_eq!(resolve("env.TOK", &env), Ok("dapi123".into()));
        assert_eq!(resolve("Bearer env.TOK", &env), Ok("Bearer dapi123".into()));
        assert_eq!(resolve("plain value", &env), Ok("plain value".into()));
        assert_eq!(resolve("Bearer env.MISSING", &env), Err("MISSING".into()));
        assert_eq!(env_reference("Bearer env.TOK"), Some("TOK"));
        assert!(is_valid_name("DATABRICKS_TOKEN") && !is_valid_name("1X") && !is_valid_name("A-B"));
    }
}
