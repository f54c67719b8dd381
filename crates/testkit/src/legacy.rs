//! OpenAI legacy text completions (`POST …/v1/completions`) and embeddings
//! (`POST …/v1/embeddings`), with Databricks error bodies like the chat endpoint.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::faults::{self, ApiError, Dialect};
use crate::AppState;

fn invalid(message: impl Into<String>) -> Response {
    ApiError::new(StatusCode::BAD_REQUEST, message)
        .databricks_code("INVALID_PARAMETER_VALUE")
        .render(Dialect::Databricks)
}

fn parse(body: &Bytes) -> Result<Value, Box<Response>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(Box::new(
            ApiError::new(StatusCode::BAD_REQUEST, "Request body is not valid JSON")
                .databricks_code("MALFORMED_REQUEST")
                .render(Dialect::Databricks),
        )),
    }
}

/// The prompts of a completion or embedding request: a string, strings, or
/// token arrays (rendered as their numbers).
fn prompts(v: &Value) -> Option<Vec<String>> {
    let one = |p: &Value| match p {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(tokens) if tokens.iter().all(Value::is_number) => {
            Some(tokens.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" "))
        }
        _ => None,
    };
    match v {
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_number) => one(v).map(|p| vec![p]),
        Value::Array(items) if !items.is_empty() => items.iter().map(one).collect(),
        Value::Array(_) => None,
        other => one(other).map(|p| vec![p]),
    }
}

/// `POST …/v1/completions`: each prompt gets `Hello from <model>! You said: <prompt>`,
/// cut to `max_tokens` words (default 16; `finish_reason: "length"` when cut).
pub(crate) async fn completions(s: &AppState, body: &Bytes) -> Response {
    let req = match parse(body) {
        Ok(r) => r,
        Err(e) => return *e,
    };
    let Some(model) = req["model"].as_str().map(str::to_string) else {
        return invalid("Missing required parameter: 'model'.");
    };
    let prompts = match &req["prompt"] {
        Value::Null => vec!["<|endoftext|>".to_string()],
        p => match prompts(p) {
            Some(p) => p,
            None => return invalid("Invalid 'prompt': expected a string, array of strings, or token array(s)."),
        },
    };
    let max_tokens = req["max_tokens"].as_u64().unwrap_or(16) as usize;
    let turn = match faults::begin(s, Dialect::Databricks, &model).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let answers: Vec<(String, &str)> = prompts
        .iter()
        .map(|p| {
            let full = format!("Hello from {model}! You said: {p}");
            let words: Vec<&str> = full.split_inclusive(' ').collect();
            if words.len() > max_tokens {
                (words[..max_tokens].concat(), "length")
            } else {
                (full, "stop")
            }
        })
        .collect();
    let prompt_tokens: u64 = prompts.iter().map(|p| p.split_whitespace().count() as u64).sum::<u64>().max(1);
    let completion_tokens: u64 = answers.iter().map(|(t, _)| t.split_whitespace().count() as u64).sum();
    let usage = json!({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens});
    let id = format!("cmpl-fake{}", turn.count);
    let object = |choices: Value| json!({"id": id, "object": "text_completion", "created": 1_700_000_000, "model": model, "choices": choices});
    if req["stream"] != Value::Bool(true) {
        let choices: Vec<Value> = answers
            .iter()
            .enumerate()
            .map(|(i, (text, finish))| json!({"text": text, "index": i, "logprobs": null, "finish_reason": finish}))
            .collect();
        let mut body = object(json!(choices));
        body["usage"] = usage;
        return Json(body).into_response();
    }
    let include_usage = req["stream_options"]["include_usage"] == Value::Bool(true);
    let data = |v: Value| format!("data: {v}\n\n");
    let mut events = Vec::new();
    for (i, (text, _)) in answers.iter().enumerate() {
        for f in faults::fragments(text) {
            events.push(data(object(json!([{"text": f, "index": i, "logprobs": null, "finish_reason": null}]))));
        }
    }
    for (i, (_, finish)) in answers.iter().enumerate() {
        events.push(data(object(json!([{"text": "", "index": i, "logprobs": null, "finish_reason": finish}]))));
    }
    if include_usage {
        let mut last = object(json!([]));
        last["usage"] = usage;
        events.push(data(last));
    }
    events.push("data: [DONE]\n\n".to_string());
    let error = data(json!({"error": {"message": "The model failed to generate a response.", "type": "server_error"}}));
    faults::sse_response(events, &turn, 2, error)
}

/// Dimensions of the fake embeddings unless the request asks for `dimensions`.
pub const EMBEDDING_DIMENSIONS: usize = 8;

/// `POST …/v1/embeddings`: deterministic unit vectors derived from each input's
/// text; `encoding_format: "base64"` (the OpenAI SDKs' default) gives
/// little-endian f32 bytes in base64.
pub(crate) async fn embeddings(s: &AppState, body: &Bytes) -> Response {
    let req = match parse(body) {
        Ok(r) => r,
        Err(e) => return *e,
    };
    let Some(model) = req["model"].as_str().map(str::to_string) else {
        return invalid("Missing required parameter: 'model'.");
    };
    let Some(inputs) = prompts(&req["input"]) else {
        return invalid("'input' must be a non-empty string, array of strings, or token array(s).");
    };
    if inputs.iter().any(String::is_empty) {
        return invalid("'input' cannot contain an empty string.");
    }
    let dims = match &req["dimensions"] {
        Value::Null => EMBEDDING_DIMENSIONS,
        v => match v.as_u64() {
            Some(d @ 1..=4096) => d as usize,
            _ => return invalid("Invalid 'dimensions': expected an integer between 1 and 4096."),
        },
    };
    let base64 = match req["encoding_format"].as_str() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => return invalid(format!("Invalid 'encoding_format': {other}. Expected 'float' or 'base64'.")),
    };
    if let Err(r) = faults::begin(s, Dialect::Databricks, &model).await {
        return r;
    }
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let v = embedding(text, dims);
            let embedding = if base64 {
                json!(base64_encode(&v.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>()))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let tokens: u64 = inputs.iter().map(|t| t.split_whitespace().count() as u64).sum::<u64>().max(1);
    Json(json!({"object": "list", "data": data, "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}))
    .into_response()
}

/// A unit vector of `dims` components derived from `text` (FNV-1a seeded xorshift).
pub fn embedding(text: &str, dims: usize) -> Vec<f32> {
    let mut state =
        text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let raw: Vec<f32> = (0..dims)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    let norm = raw.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        return raw;
    }
    raw.into_iter().map(|x| x / norm).collect()
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_deterministic_unit_vectors() {
        let a = embedding("hello", 8);
        assert_eq!(a, embedding("hello", 8));
        assert_ne!(a, embedding("world", 8));
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
    }

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn prompt_forms() {
        assert_eq!(prompts(&json!("a")), Some(vec!["a".to_string()]));
        assert_eq!(prompts(&json!(["a", "b"])), Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(prompts(&json!([1, 2])), Some(vec!["1 2".to_string()]));
        assert_eq!(prompts(&json!([[1], [2, 3]])), Some(vec!["1".to_string(), "2 3".to_string()]));
        assert_eq!(prompts(&json!([])), None);
        assert_eq!(prompts(&json!({"x": 1})), None);
    }
}
