//! `env.NAME` references: config values read from the environment at load.

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

/// The variable name when `value` is an `env.NAME` reference.
pub fn env_reference(value: &str) -> Option<&str> {
    value.strip_prefix("env.")
}

/// Resolves a value that may be an `env.NAME` reference. `Err` names the unset variable.
pub fn resolve(value: &str, env: &dyn EnvResolver) -> Result<String, String> {
    match env_reference(value) {
        Some(name) => env.var(name).ok_or_else(|| name.to_string()),
        None => Ok(value.to_string()),
    }
}
