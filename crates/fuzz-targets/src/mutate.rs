//! Mutations for `fuzz-run`: byte-level (bit flips, inserts, deletes,
//! splices), token-level (JSON and SSE tokens dropped at random places) and
//! tree-level (a JSON body, or the JSON payload of an SSE `data:` line, parsed,
//! one node replaced with an awkward value, and re-serialised), so that a
//! good share of mutants stay valid JSON and reach the converters.

use rand::rngs::SmallRng;
use rand::Rng;
use serde_json::{Map, Number, Value};

/// Upper bound on a mutant's size; bigger inputs only slow the run down.
pub const MAX_LEN: usize = 256 * 1024;

const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "\\",
    "\\\"",
    "\\u0000",
    "\\ud800",
    "\\udc00\\ud800",
    "\\u00e9",
    "null",
    "true",
    "false",
    "-0",
    "0",
    "-1",
    "1e999999",
    "-1e-999999",
    "1.7976931348623157e309",
    "18446744073709551616",
    "-9223372036854775809",
    "9223372036854775807",
    "4294967296",
    "123456789012345678901234567890",
    "0.000000000000000000000000000001",
    "\"\"",
    "[]",
    "{}",
    "\"model\"",
    "\"type\"",
    "\"content\"",
    "\"text\"",
    "\"role\"",
    "\"tool_use\"",
    "\"tool_calls\"",
    "\"function\"",
    "\"arguments\"",
    "\"index\"",
    "\u{e9}",
    "\u{2028}",
    "\u{1f600}",
];

const SSE_TOKENS: &[&str] = &[
    "\n",
    "\r",
    "\r\n",
    "\n\n",
    "\r\r",
    "data: ",
    "data:",
    "event: ",
    "id: ",
    "retry: 10\n",
    ": keep-alive\n\n",
    "data: [DONE]\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}\n\n",
    "data: {\"error\":{\"message\":\"x\"}}\n\n",
    "data: {}\n\n",
    "data: null\n\n",
];

const BAD_BYTES: &[&[u8]] =
    &[b"\xff", b"\xfe\xff", b"\xc3", b"\xe2\x80", b"\xf0\x9f\x98", b"\xed\xa0\x80", b"\x00", b"\x7f"];

const INTERESTING: &[u8] = &[0, 0x7f, 0x80, 0xff, b'"', b'\\', b'{', b'}', b'[', b']', b':', b',', b'\n', b'\r', b' '];

/// One mutant of `pool[i]`: 1 to 4 stacked mutations.
pub fn mutant(rng: &mut SmallRng, pool: &[Vec<u8>]) -> Vec<u8> {
    let mut data = pool.get(rng.random_range(0..pool.len().max(1))).cloned().unwrap_or_default();
    for _ in 0..rng.random_range(1..=4) {
        mutate(rng, &mut data, pool);
    }
    data.truncate(MAX_LEN);
    data
}

/// Applies one random mutation in place.
pub fn mutate(rng: &mut SmallRng, data: &mut Vec<u8>, pool: &[Vec<u8>]) {
    match rng.random_range(0..16) {
        0 => flip_bit(rng, data),
        1 => set_byte(rng, data),
        2 => insert_random(rng, data),
        3 => delete_range(rng, data),
        4 => duplicate_range(rng, data),
        5 => splice(rng, data, pool),
        6 | 7 => insert_token(rng, data, JSON_TOKENS),
        8 => insert_token(rng, data, SSE_TOKENS),
        9 => {
            let bad = BAD_BYTES[rng.random_range(0..BAD_BYTES.len())];
            insert_bytes(rng, data, bad);
        }
        10 => insert_nesting(rng, data),
        11 => truncate(rng, data),
        12..=14 => {
            if !mutate_json(rng, data) && !mutate_sse_data(rng, data) {
                insert_token(rng, data, JSON_TOKENS);
            }
        }
        _ => {
            if !mutate_sse_data(rng, data) {
                insert_token(rng, data, SSE_TOKENS);
            }
        }
    }
}

fn pos(rng: &mut SmallRng, data: &[u8]) -> usize {
    rng.random_range(0..=data.len())
}

fn flip_bit(rng: &mut SmallRng, data: &mut [u8]) {
    if data.is_empty() {
        return;
    }
    let i = rng.random_range(0..data.len());
    data[i] ^= 1 << rng.random_range(0..8);
}

fn set_byte(rng: &mut SmallRng, data: &mut [u8]) {
    if data.is_empty() {
        return;
    }
    let i = rng.random_range(0..data.len());
    data[i] = if rng.random_bool(0.5) { INTERESTING[rng.random_range(0..INTERESTING.len())] } else { rng.random() };
}

fn insert_random(rng: &mut SmallRng, data: &mut Vec<u8>) {
    let at = pos(rng, data);
    let n = rng.random_range(1..=8);
    let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
    data.splice(at..at, bytes);
}

fn insert_bytes(rng: &mut SmallRng, data: &mut Vec<u8>, bytes: &[u8]) {
    let at = pos(rng, data);
    data.splice(at..at, bytes.iter().copied());
}

fn insert_token(rng: &mut SmallRng, data: &mut Vec<u8>, tokens: &[&str]) {
    let token = tokens[rng.random_range(0..tokens.len())];
    // Half the time right after a `:` or `,` (a value position), else anywhere.
    let spots: Vec<usize> =
        data.iter().enumerate().filter(|(_, &b)| b == b':' || b == b',').map(|(i, _)| i + 1).collect();
    let at = if !spots.is_empty() && rng.random_bool(0.5) {
        spots[rng.random_range(0..spots.len())]
    } else {
        pos(rng, data)
    };
    data.splice(at..at, token.bytes());
}

fn delete_range(rng: &mut SmallRng, data: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    let start = rng.random_range(0..data.len());
    let len = rng.random_range(1..=(data.len() - start).min(64));
    data.drain(start..start + len);
}

fn duplicate_range(rng: &mut SmallRng, data: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    let start = rng.random_range(0..data.len());
    let len = rng.random_range(1..=(data.len() - start).min(256));
    let copy = data[start..start + len].to_vec();
    let at = pos(rng, data);
    data.splice(at..at, copy);
}

/// A prefix of this input followed by a suffix of another seed.
fn splice(rng: &mut SmallRng, data: &mut Vec<u8>, pool: &[Vec<u8>]) {
    let Some(other) = pool.get(rng.random_range(0..pool.len().max(1))) else { return };
    let cut = pos(rng, data);
    let from = rng.random_range(0..=other.len());
    data.truncate(cut);
    data.extend_from_slice(&other[from..]);
}

fn truncate(rng: &mut SmallRng, data: &mut Vec<u8>) {
    let at = pos(rng, data);
    data.truncate(at);
}

/// Deep nesting, around the JSON parser's recursion limit (128) and past it.
fn insert_nesting(rng: &mut SmallRng, data: &mut Vec<u8>) {
    let depth = [100, 127, 128, 129, 200, 5000][rng.random_range(0..6)];
    let (open, close): (&[u8], &[u8]) = if rng.random_bool(0.5) { (b"[", b"]") } else { (b"{\"a\":", b"}") };
    let mut nest = open.repeat(depth);
    if rng.random_bool(0.5) {
        nest.extend_from_slice(b"1");
        nest.extend(close.repeat(depth));
    }
    let at = pos(rng, data);
    data.splice(at..at, nest);
}

/// Parses `data` as JSON and replaces one random node; false if it is not JSON.
pub fn mutate_json(rng: &mut SmallRng, data: &mut Vec<u8>) -> bool {
    let Ok(mut value) = serde_json::from_slice::<Value>(data) else { return false };
    mutate_tree(rng, &mut value);
    match serde_json::to_vec(&value) {
        Ok(out) => {
            *data = out;
            true
        }
        Err(_) => false,
    }
}

/// Mutates the JSON payload of one `data:` line of an SSE stream.
fn mutate_sse_data(rng: &mut SmallRng, data: &mut Vec<u8>) -> bool {
    let lines: Vec<(usize, usize)> = line_spans(data).filter(|&(s, e)| data[s..e].starts_with(b"data:")).collect();
    if lines.is_empty() {
        return false;
    }
    let (start, end) = lines[rng.random_range(0..lines.len())];
    let payload_start = start + 5 + usize::from(data.get(start + 5) == Some(&b' '));
    let mut payload = data[payload_start..end].to_vec();
    if !mutate_json(rng, &mut payload) {
        return false;
    }
    data.splice(payload_start..end, payload);
    true
}

/// `(start, end)` of every `\n`-terminated line (end excludes the `\n`).
fn line_spans(data: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = 0;
    data.iter().enumerate().filter(|(_, &b)| b == b'\n').map(move |(i, _)| {
        let span = (start, i);
        start = i + 1;
        span
    })
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        Value::Object(o) => o.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// The `n`th node in pre-order.
fn nth_node<'a>(v: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
    if *n == 0 {
        return Some(v);
    }
    *n -= 1;
    match v {
        Value::Array(a) => a.iter_mut().find_map(|c| nth_node(c, n)),
        Value::Object(o) => o.values_mut().find_map(|c| nth_node(c, n)),
        _ => None,
    }
}

fn nth_ref<'a>(v: &'a Value, n: &mut usize) -> Option<&'a Value> {
    if *n == 0 {
        return Some(v);
    }
    *n -= 1;
    match v {
        Value::Array(a) => a.iter().find_map(|c| nth_ref(c, n)),
        Value::Object(o) => o.values().find_map(|c| nth_ref(c, n)),
        _ => None,
    }
}

fn mutate_tree(rng: &mut SmallRng, root: &mut Value) {
    let total = count_nodes(root);
    let donor = nth_ref(root, &mut rng.random_range(0..total)).cloned();
    let Some(node) = nth_node(root, &mut rng.random_range(0..total)) else { return };
    match rng.random_range(0..6) {
        0 => *node = awkward(rng),
        1 => {
            if let Some(d) = donor {
                *node = d;
            }
        }
        2 => match node {
            Value::Array(a) if !a.is_empty() => {
                let i = rng.random_range(0..a.len());
                if rng.random_bool(0.5) {
                    a.remove(i);
                } else {
                    let c = a[i].clone();
                    a.insert(i, c);
                }
            }
            Value::Object(o) if !o.is_empty() => {
                let i = rng.random_range(0..o.len());
                if let Some(k) = o.keys().nth(i).cloned() {
                    o.remove(&k);
                }
            }
            _ => *node = Value::Null,
        },
        3 => {
            if let Value::Object(o) = node {
                let key = KEYS[rng.random_range(0..KEYS.len())];
                o.insert(key.to_string(), awkward(rng));
            } else {
                *node = awkward(rng);
            }
        }
        4 => {
            // Wrap: x becomes [x] or {"type": x}.
            let inner = node.take();
            *node = if rng.random_bool(0.5) {
                Value::Array(vec![inner])
            } else {
                Value::Object(Map::from_iter([("type".to_string(), inner)]))
            };
        }
        _ => {
            if let Value::String(s) = node {
                *s = awkward_string(rng);
            } else {
                *node = awkward(rng);
            }
        }
    }
}

/// Member names the converters look at.
const KEYS: &[&str] = &[
    "type",
    "role",
    "content",
    "text",
    "id",
    "name",
    "index",
    "model",
    "stream",
    "tools",
    "tool_choice",
    "messages",
    "input",
    "arguments",
    "delta",
    "usage",
    "choices",
    "finish_reason",
    "stop_reason",
    "max_tokens",
    "system",
    "thinking",
    "reasoning",
    "response_format",
    "n",
    "logprobs",
];

/// Member values the converters switch on.
const WORDS: &[&str] = &[
    "user",
    "assistant",
    "system",
    "developer",
    "tool",
    "function",
    "text",
    "image",
    "image_url",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "input_text",
    "output_text",
    "message",
    "function_call",
    "function_call_output",
    "reasoning",
    "auto",
    "none",
    "required",
    "any",
    "json_schema",
    "json_object",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_start",
    "message_delta",
    "message_stop",
    "text_delta",
    "input_json_delta",
    "thinking_delta",
    "signature_delta",
    "stop",
    "length",
    "tool_calls",
    "end_turn",
    "max_tokens",
    "data:image/png;base64,",
    "data:;base64,%%",
    "",
];

fn awkward_string(rng: &mut SmallRng) -> String {
    match rng.random_range(0..6) {
        0 | 1 => WORDS[rng.random_range(0..WORDS.len())].to_string(),
        2 => "x".repeat(rng.random_range(60..70)),
        3 => "\u{0}\u{2028}\u{e9}\u{1f600}".to_string(),
        4 => "a\u{0}\u{e9}\u{1f600}\u{fffd}\"\\".chars().take(rng.random_range(0..8)).collect(),
        _ => (0..rng.random_range(0..12)).map(|_| char::from(rng.random_range(0x20u8..0x7f))).collect(),
    }
}

fn awkward(rng: &mut SmallRng) -> Value {
    match rng.random_range(0..12) {
        0 => Value::Null,
        1 => Value::Bool(rng.random()),
        2 => Value::from(-1),
        3 => Value::from(u64::MAX),
        4 => Value::from(i64::MIN),
        5 => Number::from_f64(if rng.random_bool(0.5) { 1.5 } else { 1e300 }).map_or(Value::Null, Value::Number),
        6 => Value::Array(Vec::new()),
        7 => Value::Object(Map::new()),
        8 => Value::Array(vec![Value::String(awkward_string(rng)), Value::Null]),
        9 => Value::Object(Map::from_iter([
            ("type".to_string(), Value::String(awkward_string(rng))),
            ("text".to_string(), Value::String(awkward_string(rng))),
        ])),
        _ => Value::String(awkward_string(rng)),
    }
}
