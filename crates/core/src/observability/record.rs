//! The request log's row, as stored and as `GET /api/logs` shows it (these
//! JSON names are the API's), and the filters the log API takes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One request, settled. Times are unix milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRow {
    pub request_id: String,
    /// RFC 3339 in the API; unix ms in `started_at_ms`.
    pub started_at: String,
    pub started_at_ms: u64,
    pub duration_ms: u64,
    pub ttft_ms: Option<u64>,
    /// `openai.chat`, `anthropic.messages`, …
    pub inbound: String,
    pub route: Option<String>,
    pub provider: Option<String>,
    /// As the client asked for it.
    pub model: String,
    /// As the candidate that answered names it upstream.
    pub served_model: Option<String>,
    pub stream: bool,
    /// Candidates tried.
    pub attempts: u32,
    pub status: u16,
    /// `completed`, `failed`, `broke`, `client_left`.
    pub end: String,
    pub error_code: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
    /// Some count was estimated (the upstream reported none).
    pub usage_estimated: bool,
    /// `None`: no price covers the model.
    pub cost_usd: Option<f64>,
    pub key_id: Option<String>,
    pub key_name: Option<String>,
    pub team: Option<String>,
    pub user: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub user_agent: Option<String>,
}

/// What `GET /api/logs` narrows by; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogFilter {
    /// RFC 3339 or unix ms.
    pub since: Option<String>,
    pub until: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub route: Option<String>,
    pub key: Option<String>,
    pub team: Option<String>,
    pub user: Option<String>,
    /// `2xx`, `4xx`, `5xx` (or `1`..`5`).
    pub status: Option<String>,
    pub error_code: Option<String>,
    pub stream: Option<bool>,
    pub request_id: Option<String>,
    /// Rows per page, 1..=500 (default 50).
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl LogFilter {
    /// The status class as its first digit, if the filter names one.
    pub fn status_class(&self) -> Option<Result<u16, String>> {
        let s = self.status.as_deref()?;
        let digit = s.trim_end_matches("xx").trim_end_matches('x');
        Some(match digit.parse::<u16>() {
            Ok(d @ 1..=5) => Ok(d),
            _ => Err(format!("status: {s:?} is not a status class (2xx, 4xx, 5xx)")),
        })
    }

    /// `since`/`until` as unix ms.
    pub fn bound(v: Option<&str>, field: &str) -> Result<Option<u64>, String> {
        let Some(v) = v else { return Ok(None) };
        if let Ok(ms) = v.parse::<u64>() {
            return Ok(Some(ms));
        }
        crate::governance::period::parse_rfc3339(v)
            .and_then(|s| u64::try_from(s).ok())
            .map(|s| Some(s * 1000))
            .ok_or_else(|| format!("{field}: {v:?} is neither RFC 3339 nor unix milliseconds"))
    }

    pub fn page_size(&self) -> u32 {
        self.limit.unwrap_or(50).clamp(1, 500)
    }
}

/// One page of rows, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct LogPage {
    pub data: Vec<LogRow>,
    /// Pass as `cursor` for the next (older) page; `None` on the last.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classes_and_bounds_read_as_a_user_writes_them() {
        let f = |s: &str| LogFilter { status: Some(s.into()), ..LogFilter::default() }.status_class();
        assert_eq!(f("4xx"), Some(Ok(4)));
        assert_eq!(f("5"), Some(Ok(5)));
        assert!(f("9xx").unwrap().is_err());
        assert_eq!(LogFilter::bound(Some("1800000000000"), "since"), Ok(Some(1_800_000_000_000)));
        assert_eq!(LogFilter::bound(Some("2027-01-15T08:00:00Z"), "since"), Ok(Some(1_800_000_000_000)));
        assert!(LogFilter::bound(Some("yesterday"), "since").unwrap_err().contains("since"));
        assert_eq!(LogFilter { limit: Some(9999), ..LogFilter::default() }.page_size(), 500);
    }
}
