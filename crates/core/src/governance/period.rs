//! Calendar UTC budget periods, and the wall-clock times the API shows.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::policy::Period;

/// Start of the period holding `now_ms`, and start of the next (unix ms);
/// `Total` runs from the epoch and never ends.
pub fn bounds(period: Period, now_ms: u64) -> (u64, Option<u64>) {
    let Some(today) = date_of(now_ms) else { return (0, None) };
    let (start, next) = match period {
        Period::Total => return (0, None),
        Period::Day => (today, today.checked_add(1.day()).ok()),
        Period::Week => {
            let back = today.weekday().since(Weekday::Monday);
            let monday = today.checked_sub(i64::from(back).days()).unwrap_or(today);
            (monday, monday.checked_add(1.week()).ok())
        }
        Period::Month => {
            let first = today.first_of_month();
            (first, first.checked_add(1.month()).ok())
        }
    };
    (millis_of(start).unwrap_or(0), next.and_then(millis_of))
}

fn date_of(ms: u64) -> Option<Date> {
    let ts = Timestamp::from_millisecond(i64::try_from(ms).ok()?).ok()?;
    Some(ts.to_zoned(TimeZone::UTC).date())
}

fn millis_of(d: Date) -> Option<u64> {
    let z = d.to_zoned(TimeZone::UTC).ok()?;
    u64::try_from(z.timestamp().as_millisecond()).ok()
}

/// RFC 3339 in UTC, to the second.
pub fn rfc3339(ms: u64) -> String {
    i64::try_from(ms / 1000)
        .ok()
        .and_then(|s| Timestamp::from_second(s).ok())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Unix seconds from an RFC 3339 timestamp (`2027-01-31T00:00:00Z`).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    s.parse::<Timestamp>().ok().map(|t| t.as_second())
}

/// The wall clock, in unix ms.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> u64 {
        u64::try_from(s.parse::<Timestamp>().unwrap().as_millisecond()).unwrap()
    }

    #[test]
    fn periods_are_calendar_utc() {
        let now = ms("2026-12-02T17:45:10Z"); // a Wednesday
        assert_eq!(bounds(Period::Day, now), (ms("2026-12-02T00:00:00Z"), Some(ms("2026-12-03T00:00:00Z"))));
        assert_eq!(bounds(Period::Week, now), (ms("2026-11-30T00:00:00Z"), Some(ms("2026-12-07T00:00:00Z"))));
        assert_eq!(bounds(Period::Month, now), (ms("2026-12-01T00:00:00Z"), Some(ms("2027-01-01T00:00:00Z"))));
        assert_eq!(bounds(Period::Total, now), (0, None));
        let monday = ms("2026-11-30T00:00:00Z");
        assert_eq!(bounds(Period::Week, monday).0, monday);
    }

    #[test]
    fn timestamps_round_trip() {
        assert_eq!(rfc3339(ms("2027-01-31T00:00:00Z")), "2027-01-31T00:00:00Z");
        assert_eq!(parse_rfc3339("2027-01-31T00:00:00Z"), Some(1_801_353_600));
        assert_eq!(parse_rfc3339("tomorrow"), None);
    }
}
