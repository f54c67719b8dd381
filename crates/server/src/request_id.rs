//! Request ids: the client's, or a new one.

use http::{HeaderValue, Request};

pub const REQUEST_ID: &str = "x-request-id";

/// A client's id is kept when it is printable ASCII of at most 128 bytes.
fn valid_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty() && b.len() <= 128 && b.iter().all(|c| c.is_ascii_graphic())
}

/// A UUIDv7: milliseconds since the epoch, then random bits (from `rand`, which
/// the gateway already uses, rather than uuid's own generator and its second
/// copy of `getrandom`).
fn new_id() -> String {
    use rand::Rng;
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let random: [u8; 10] = rand::rng().random();
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid().hyphenated().to_string()
}

/// Gives the request an id: the client's `x-request-id` when valid, else a
/// new UUIDv7 (time-ordered, so ids sort like the log), written into the
/// request so that the header allow-list forwards it upstream. The caller
/// echoes it on the response.
pub fn assign_request_id<B>(req: &mut Request<B>) -> HeaderValue {
    match req.headers().get(REQUEST_ID) {
        Some(v) if valid_id(v) => v.clone(),
        _ => {
            let v = HeaderValue::from_str(&new_id()).unwrap_or(HeaderValue::from_static("invalid"));
            req.headers_mut().insert(REQUEST_ID, v.clone());
            v
        }
    }
}
