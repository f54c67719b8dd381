//! The config file's `logging` section: the request log's payloads,
//! redaction and retention. (Every request gets its narrow row; bodies
//! only when asked for, globally here or per key or team.)

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::reader::{join, Diags};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// Store request and response bodies for every request (keys and teams
    /// may say otherwise with their own `log_payloads`).
    pub payloads: bool,
    /// Each side is cut to this many bytes (the cut is marked).
    pub payload_max_bytes: usize,
    /// JSON paths whose values are replaced before a payload is stored:
    /// `messages[*].content`, `metadata.user_id`, `input[0]`.
    pub redact_paths: Vec<String>,
    /// Mask anything that looks like a credential (API keys, bearer tokens,
    /// JWTs, `password`/`secret`/`token` members) in stored payloads.
    pub redact_credentials: bool,
    /// Rows older than this are pruned.
    pub retention_days: u64,
    /// Payloads older than this are pruned (rows stay).
    pub payload_retention_days: u64,
    /// Oldest rows are pruned while the log database holds more than this
    /// (MiB of live pages); 0: no size cap.
    pub max_size_mb: u64,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            payloads: false,
            payload_max_bytes: 64 * 1024,
            redact_paths: Vec::new(),
            redact_credentials: true,
            retention_days: 30,
            payload_retention_days: 7,
            max_size_mb: 0,
        }
    }
}

impl LoggingConfig {
    pub(super) fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

pub(super) fn read_logging(value: &Value, d: &mut Diags) -> LoggingConfig {
    let parsed: Result<LoggingConfig, _> = serde_path_to_error::deserialize(value);
    let config = match parsed {
        Ok(c) => c,
        Err(e) => {
            let at = e.path().to_string();
            let at = if at == "." { "logging".to_string() } else { join("logging", &at) };
            d.error(&at, e.into_inner().to_string(), None);
            return LoggingConfig::default();
        }
    };
    for (i, p) in config.redact_paths.iter().enumerate() {
        if let Err(m) = crate::observability::redact::JsonPath::parse(p) {
            d.error(
                &format!("logging.redact_paths[{i}]"),
                m,
                Some("dotted members with [n] or [*]: `messages[*].content`".into()),
            );
        }
    }
    for (field, v) in
        [("retention_days", config.retention_days), ("payload_retention_days", config.payload_retention_days)]
    {
        if v == 0 {
            d.error(&join("logging", field), "must be at least 1 day", None);
        }
    }
    if config.payload_max_bytes == 0 {
        d.error("logging.payload_max_bytes", "must be more than 0", Some("65536 (64 KiB) is the default".into()));
    }
    config
}
