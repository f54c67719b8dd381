//! The request log's row, as stored and as `GET /api/logs` shows it (these
//! JSON names are the API's), and the filters the log API takes.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One request, settled. Times are unix milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogRow {
    pub request_id: String,
    /// RFC 3339 in the API; unix ms in `started_at_ms`.
    pub started_at: String,
    pub started_at_ms: u64,
    pub duration_ms: u64,
    pub ttft_ms: Option<u64>,
    /// `openai.chat`, `anthropic.messages`, …
    /// A label the gateway names (never allocated per request); owned when read back.
    pub inbound: Cow<'static, str>,
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
    pub end: Cow<'static, str>,
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
    /// Which candidate answered: 0 the first, 1 the first fallback, …
    pub fallback_index: u32,
    /// Upstream retries inside candidates.
    pub retries: u32,
    /// Every candidate tried, in order, with the error of each that failed.
    pub attempt_details: Vec<AttemptDetail>,
    /// The request's payloads were stored (see `GET /api/logs/{request_id}`).
    pub has_payload: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptDetail {
    /// `<provider>/<model>`.
    pub candidate: String,
    pub error: Option<String>,
}

/// A request's bodies as stored: redacted, each capped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPayload {
    pub request: String,
    pub response: String,
    pub request_truncated: bool,
    pub response_truncated: bool,
}

impl StoredPayload {
    pub fn bytes(&self) -> usize {
        self.request.len() + self.response.len()
    }
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
    /// Text searched for in stored payloads.
    pub q: Option<String>,
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

    /// Checks what a store cannot: status class, time bounds, cursor.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(Err(m)) = self.status_class() {
            return Err(m);
        }
        Self::bound(self.since.as_deref(), "since")?;
        Self::bound(self.until.as_deref(), "until")?;
        if self.cursor.as_deref().is_some_and(|c| c.parse::<i64>().is_err()) {
            return Err("cursor: pass the next_cursor of the previous page as it is".into());
        }
        Ok(())
    }

    /// Whether a row passes the filter (the live tail's test; a store
    /// filters in its query). `q` needs stored payloads: the tail only
    /// passes rows that have one.
    pub fn matches(&self, row: &LogRow) -> bool {
        let eq = |f: &Option<String>, v: Option<&str>| f.as_deref().is_none_or(|f| Some(f) == v);
        let class = self.status_class().and_then(Result::ok);
        let since = Self::bound(self.since.as_deref(), "since").ok().flatten();
        let until = Self::bound(self.until.as_deref(), "until").ok().flatten();
        eq(&self.provider, row.provider.as_deref())
            && eq(&self.model, Some(&row.model))
            && eq(&self.route, row.route.as_deref())
            && eq(&self.key, row.key_id.as_deref())
            && eq(&self.team, row.team.as_deref())
            && eq(&self.user, row.user.as_deref())
            && eq(&self.error_code, row.error_code.as_deref())
            && eq(&self.request_id, Some(&row.request_id))
            && self.stream.is_none_or(|s| s == row.stream)
            && class.is_none_or(|c| row.status / 100 == c)
            && since.is_none_or(|s| row.started_at_ms >= s)
            && until.is_none_or(|u| row.started_at_ms < u)
            && (self.q.is_none() || row.has_payload)
    }
}

/// One page of rows, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct LogPage {
    pub data: Vec<LogRow>,
    /// Pass as `cursor` for the next (older) page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// A row with every field at a plain value (tests).
#[cfg(test)]
pub(crate) fn sample_row(request_id: &str) -> LogRow {
    LogRow {
        request_id: request_id.into(),
        started_at: String::new(),
        started_at_ms: 0,
        duration_ms: 0,
        ttft_ms: None,
        inbound: "openai.chat".into(),
        route: None,
        provider: None,
        model: "m".into(),
        served_model: None,
        stream: false,
        attempts: 1,
        status: 200,
        end: "completed".into(),
        error_code: None,
        input_tokens: 0,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        usage_estimated: false,
        cost_usd: None,
        key_id: None,
        key_name: None,
        team: None,
        user: None,
        tags: BTreeMap::new(),
        user_agent: None,
        fallback_index: 0,
        retries: 0,
        attempt_details: Vec::new(),
        has_payload: false,
    }
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
