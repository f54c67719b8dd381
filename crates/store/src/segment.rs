//! The request log's storage unit: a segment, one stored row per writer
//! batch (up to [`SEGMENT_ROWS`] requests) rather than one per request. A
//! row per request paid for a B-tree insert per column and per index on
//! every request (two thirds of the log's cost); a segment pays one per
//! batch, and a request only the encoding of its row.
//!
//! Pure code, no I/O: the row encoding, the zone maps (which values a
//! segment holds, so a filter skips the segments that cannot match), log ids,
//! and which request ids need an entry in the id table.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use switchyard_core::observability::{AttemptDetail, LogRow};

/// Rows per segment at most: a log id is `segment << ID_SHIFT | index`.
pub(crate) const SEGMENT_ROWS: usize = 1 << ID_SHIFT;
pub(crate) const ID_SHIFT: u32 = 10;

/// A request id that is a UUIDv7 dated within this of the row's start needs no
/// id-table entry: a lookup reads the segments around its date instead.
pub(crate) const DATED_ID_SLACK_MS: u64 = 60_000;

pub(crate) fn log_id(segment: i64, index: usize) -> i64 {
    (segment << ID_SHIFT) | index as i64
}

pub(crate) fn segment_of(log_id: i64) -> i64 {
    log_id >> ID_SHIFT
}

/// The first log id past `segment`'s.
pub(crate) fn segment_end(segment: i64) -> i64 {
    (segment + 1) << ID_SHIFT
}

/// A row as stored: a JSON array, its values in the order of [`ReadRow`]'s
/// fields. Positional, not an object: the field names were most of the cost
/// of encoding a row (each escaped and written on every request). The start
/// is rendered and `has_payload` found when read.
#[derive(Serialize)]
struct StoredRow<'a>(
    &'a str,
    u64,
    u64,
    Option<u64>,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    Option<&'a str>,
    bool,
    u32,
    u16,
    &'a str,
    Option<&'a str>,
    u64,
    u64,
    u64,
    u64,
    u64,
    bool,
    Option<f64>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    &'a BTreeMap<String, String>,
    Option<&'a str>,
    u32,
    u32,
    Vec<(&'a str, Option<&'a str>)>,
);

impl<'a> From<&'a LogRow> for StoredRow<'a> {
    fn from(r: &'a LogRow) -> Self {
        Self(
            &r.request_id,
            r.started_at_ms,
            r.duration_ms,
            r.ttft_ms,
            &r.inbound,
            r.route.as_deref(),
            r.provider.as_deref(),
            &r.model,
            r.served_model.as_deref(),
            r.stream,
            r.attempts,
            r.status,
            &r.end,
            r.error_code.as_deref(),
            r.input_tokens,
            r.output_tokens,
            r.cache_read_tokens,
            r.cache_write_tokens,
            r.reasoning_tokens,
            r.usage_estimated,
            r.cost_usd,
            r.key_id.as_deref(),
            r.key_name.as_deref(),
            r.team.as_deref(),
            r.user.as_deref(),
            &r.tags,
            r.user_agent.as_deref(),
            r.fallback_index,
            r.retries,
            r.attempt_details.iter().map(|a| (a.candidate.as_str(), a.error.as_deref())).collect(),
        )
    }
}

/// A stored row read back. serde reads a struct from an array by field order,
/// so this declaration is the layout: a value is only ever appended at the end
/// (older rows then read it as its default).
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct ReadRow {
    request_id: String,
    started_at_ms: u64,
    duration_ms: u64,
    ttft_ms: Option<u64>,
    inbound: String,
    route: Option<String>,
    provider: Option<String>,
    model: String,
    served_model: Option<String>,
    stream: bool,
    attempts: u32,
    status: u16,
    end: String,
    error_code: Option<String>,
    input_tokens: u64,
    output_tokens: u64,
    cache_read_tokens: u64,
    cache_write_tokens: u64,
    reasoning_tokens: u64,
    usage_estimated: bool,
    cost_usd: Option<f64>,
    key_id: Option<String>,
    key_name: Option<String>,
    team: Option<String>,
    user: Option<String>,
    tags: BTreeMap<String, String>,
    user_agent: Option<String>,
    fallback_index: u32,
    retries: u32,
    attempt_details: Vec<(String, Option<String>)>,
}

impl From<ReadRow> for LogRow {
    fn from(r: ReadRow) -> Self {
        Self {
            request_id: r.request_id,
            started_at: String::new(),
            started_at_ms: r.started_at_ms,
            duration_ms: r.duration_ms,
            ttft_ms: r.ttft_ms,
            inbound: r.inbound.into(),
            route: r.route,
            provider: r.provider,
            model: r.model,
            served_model: r.served_model,
            stream: r.stream,
            attempts: r.attempts,
            status: r.status,
            end: r.end.into(),
            error_code: r.error_code,
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            cache_read_tokens: r.cache_read_tokens,
            cache_write_tokens: r.cache_write_tokens,
            reasoning_tokens: r.reasoning_tokens,
            usage_estimated: r.usage_estimated,
            cost_usd: r.cost_usd,
            key_id: r.key_id,
            key_name: r.key_name,
            team: r.team,
            user: r.user,
            tags: r.tags,
            user_agent: r.user_agent,
            fallback_index: r.fallback_index,
            retries: r.retries,
            attempt_details: r
                .attempt_details
                .into_iter()
                .map(|(candidate, error)| AttemptDetail { candidate, error })
                .collect(),
            has_payload: false,
        }
    }
}

/// A segment's rows, as stored.
pub(crate) fn decode(data: &str) -> Result<Vec<LogRow>, serde_json::Error> {
    let rows: Vec<ReadRow> = serde_json::from_str(data)?;
    Ok(rows.into_iter().map(LogRow::from).collect())
}

/// Distinct values past which a zone map gives up and says "any" ([`ANY`]):
/// a filter then reads the segment, as it would without a zone map.
const ZONE_VALUES: usize = 64;

/// A zone map that lists nothing: every value may be in the segment.
pub(crate) const ANY: &str = "*";

/// The distinct values of one column in a segment, stored as
/// `"\nv1\nv2\n"` so that `instr(zone, "\n" || v || "\n")` tests one. A value
/// holding a newline can only make a segment look like a match (the rows are
/// filtered again when read), never hide one.
#[derive(Default)]
pub(crate) struct ZoneMap<'a> {
    values: Vec<&'a str>,
    any: bool,
}

impl<'a> ZoneMap<'a> {
    pub(crate) fn add(&mut self, v: Option<&'a str>) {
        let Some(v) = v else { return };
        // Rows of a batch mostly repeat their neighbour's value: check it first.
        if self.any || self.values.last() == Some(&v) || self.values.contains(&v) {
            return;
        }
        if self.values.len() == ZONE_VALUES {
            self.any = true;
            self.values.clear();
        } else {
            self.values.push(v);
        }
    }

    pub(crate) fn encode(&self) -> Cow<'static, str> {
        if self.any {
            return Cow::Borrowed(ANY);
        }
        if self.values.is_empty() {
            return Cow::Borrowed("");
        }
        let mut s = String::with_capacity(1 + self.values.iter().map(|v| v.len() + 1).sum::<usize>());
        s.push('\n');
        for v in &self.values {
            s.push_str(v);
            s.push('\n');
        }
        Cow::Owned(s)
    }
}

/// One segment's rows encoded (a JSON array) with the facts stored beside it.
pub(crate) struct EncodedSegment {
    pub data: String,
    pub first_ms: u64,
    pub last_ms: u64,
    pub providers: Cow<'static, str>,
    pub models: Cow<'static, str>,
    pub keys: Cow<'static, str>,
    pub teams: Cow<'static, str>,
    pub users: Cow<'static, str>,
}

pub(crate) fn encode<'a>(rows: impl ExactSizeIterator<Item = &'a LogRow>) -> EncodedSegment {
    let mut data = Vec::with_capacity(rows.len() * 320);
    let (mut first_ms, mut last_ms) = (u64::MAX, 0);
    let mut zones: [ZoneMap<'a>; 5] = Default::default();
    data.push(b'[');
    for (i, r) in rows.enumerate() {
        if i > 0 {
            data.push(b',');
        }
        // Writing plain data into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut data, &StoredRow::from(r));
        first_ms = first_ms.min(r.started_at_ms);
        last_ms = last_ms.max(r.started_at_ms);
        zones[0].add(r.provider.as_deref());
        zones[1].add(Some(&r.model));
        zones[2].add(r.key_id.as_deref());
        zones[3].add(r.team.as_deref());
        zones[4].add(r.user.as_deref());
    }
    data.push(b']');
    let [providers, models, keys, teams, users] = zones.map(|z| z.encode());
    EncodedSegment {
        // serde_json writes UTF-8 only.
        data: String::from_utf8(data).unwrap_or_default(),
        first_ms: if first_ms == u64::MAX { 0 } else { first_ms },
        last_ms,
        providers,
        models,
        keys,
        teams,
        users,
    }
}

/// The unix ms a UUIDv7 carries (Switchyard's own request ids are v7).
pub(crate) fn uuid7_ms(id: &str) -> Option<u64> {
    let u = uuid::Uuid::try_parse(id).ok()?;
    if u.get_version_num() != 7 {
        return None;
    }
    let b = u.as_bytes();
    Some(b[..6].iter().fold(0u64, |ms, &x| (ms << 8) | u64::from(x)))
}

/// Whether a lookup by this row's request id finds it through its date (so
/// the id table needs no entry): a UUIDv7 dated near the row's start.
pub(crate) fn dated_by_id(r: &LogRow) -> bool {
    uuid7_ms(&r.request_id).is_some_and(|ms| ms.abs_diff(r.started_at_ms) <= DATED_ID_SLACK_MS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn zone_maps_list_distinct_values_and_give_up_when_too_many() {
        let mut z = ZoneMap::default();
        for v in ["a", "b", "a", "b", "c"] {
            z.add(Some(v));
        }
        z.add(None);
        assert_eq!(z.encode(), "\na\nb\nc\n");
        assert_eq!(ZoneMap::default().encode(), "");
        let many: Vec<String> = (0..=ZONE_VALUES).map(|i| format!("u{i}")).collect();
        let mut z = ZoneMap::default();
        for v in &many {
            z.add(Some(v));
        }
        assert_eq!(z.encode(), ANY);
    }

    #[test]
    fn only_uuid7_ids_dated_near_the_start_are_found_by_date() {
        let ms = 1_764_000_000_000u64;
        let random = [7u8; 10];
        let id = uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid().hyphenated().to_string();
        assert_eq!(uuid7_ms(&id), Some(ms));
        let mut r = LogRow { request_id: id, started_at_ms: ms + 3, ..LogRow::default() };
        assert!(dated_by_id(&r));
        r.started_at_ms = ms + DATED_ID_SLACK_MS + 1;
        assert!(!dated_by_id(&r), "a client's v7 id from long before");
        r.request_id = "req-42".into();
        assert!(!dated_by_id(&r));
        r.request_id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8".into();
        assert_eq!(uuid7_ms(&r.request_id), None, "a v1 id carries no unix ms");
    }

    #[test]
    fn a_segment_is_a_json_array_of_rows_without_their_defaults() {
        let a = LogRow {
            request_id: "r1".into(),
            started_at_ms: 5,
            model: "m".into(),
            provider: Some("p".into()),
            ..LogRow::default()
        };
        let b = LogRow { request_id: "r2".into(), started_at_ms: 3, model: "m".into(), ..LogRow::default() };
        let s = encode([&a, &b].into_iter());
        assert_eq!((s.first_ms, s.last_ms), (3, 5));
        assert_eq!((s.providers.as_ref(), s.models.as_ref(), s.keys.as_ref()), ("\np\n", "\nm\n", ""));
        assert_eq!(decode(&s.data).unwrap(), [a, b]);
        assert!(s.data.starts_with(r#"[["r1",5,"#), "{}", s.data);
        assert!(!s.data.contains("request_id"), "positional: no field names stored");
    }

    #[test]
    fn every_field_survives_the_positional_layout() {
        let r = LogRow {
            request_id: "r".into(),
            started_at_ms: 1,
            duration_ms: 2,
            ttft_ms: Some(3),
            inbound: "anthropic.messages".into(),
            route: Some("rt".into()),
            provider: Some("p".into()),
            model: "m".into(),
            served_model: Some("sm".into()),
            stream: true,
            attempts: 4,
            status: 502,
            end: "failed".into(),
            error_code: Some("upstream_5xx".into()),
            input_tokens: 5,
            output_tokens: 6,
            cache_read_tokens: 7,
            cache_write_tokens: 8,
            reasoning_tokens: 9,
            usage_estimated: true,
            cost_usd: Some(0.5),
            key_id: Some("k".into()),
            key_name: Some("kn".into()),
            team: Some("t".into()),
            user: Some("u".into()),
            tags: BTreeMap::from([("env".into(), "ci".into())]),
            user_agent: Some("ua".into()),
            fallback_index: 10,
            retries: 11,
            attempt_details: vec![AttemptDetail { candidate: "x/y".into(), error: Some("e".into()) }],
            ..LogRow::default()
        };
        assert_eq!(decode(&encode([&r].into_iter()).data).unwrap(), [r]);
        // A row missing values at the end (written before they existed) reads them as defaults.
        let short = decode(r#"[["r",1,2,null,"openai.chat",null,null,"m"]]"#).unwrap();
        assert_eq!((short[0].model.as_str(), short[0].attempts, short[0].tags.len()), ("m", 0, 0));
    }
}
