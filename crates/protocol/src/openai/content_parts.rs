//! Content parts: the `content` of a Chat message or a Responses input item,
//! a string or an array of typed parts, read into canonical blocks. Chat and
//! Responses name their parts differently (`image_url` vs `input_image`) but
//! share the shape, the text rule and the inline-file rule, written here once.

use serde_json::Value;

use crate::canonical::{Block, ConvertError, Fields, MediaSource, Text};

/// The blocks of a string-or-parts `content`. `part` reads one part from its
/// `type`, its value and its fields, and returns `None` for a part that adds
/// nothing (empty text).
pub(crate) fn blocks(
    v: Option<&Value>,
    path: &str,
    mut part: impl FnMut(&str, &Value, &Fields<'_>) -> Result<Option<Block>, ConvertError>,
) -> Result<Vec<Block>, ConvertError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(if s.is_empty() { vec![] } else { vec![Block::Text(Text::plain(s.clone()))] }),
        Some(Value::Array(parts)) => {
            let mut out = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                let ppath = format!("{path}[{i}]");
                let pf = Fields::of(p, &ppath)?;
                if let Some(b) = part(pf.req_str("type")?, p, &pf)? {
                    out.push(b);
                }
            }
            Ok(out)
        }
        Some(other) => Err(ConvertError::type_error(path, "a string or an array of parts", other)),
    }
}

/// A text part; empty text adds no block.
pub(crate) fn text(pf: &Fields<'_>) -> Result<Option<Block>, ConvertError> {
    let t = pf.str("text")?.unwrap_or_default();
    Ok((!t.is_empty()).then(|| Block::Text(Text::plain(t))))
}

/// A part type with no canonical equivalent.
pub(crate) fn unknown(pf: &Fields<'_>, kind: &str) -> ConvertError {
    ConvertError::new(pf.path("type"), format!("content part `{kind}` cannot be translated"))
}

/// Inline file data: a `data:` URL, or bare base64, which OpenAI takes as a PDF.
pub(crate) fn inline_file(data: &str) -> MediaSource {
    match MediaSource::from_url(data) {
        MediaSource::Url(raw) => MediaSource::Base64 { media_type: "application/pdf".into(), data: raw },
        s => s,
    }
}

/// Joined text of a string or of text and refusal parts (assistant, system
/// and tool messages, whose other parts cannot be carried).
pub(crate) fn text_of(v: Option<&Value>, path: &str) -> Result<String, ConvertError> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let mut out = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                let pf = Fields::of(p, path)?;
                match pf.str("type")?.unwrap_or("text") {
                    "text" => out.push(pf.str("text")?.unwrap_or_default().to_string()),
                    "refusal" => out.push(pf.str("refusal")?.unwrap_or_default().to_string()),
                    other => {
                        return Err(ConvertError::new(
                            format!("{path}[{i}].type"),
                            format!("content part `{other}` is not allowed here"),
                        ))
                    }
                }
            }
            Ok(out.join(""))
        }
        Some(other) => Err(ConvertError::type_error(path, "a string or an array of parts", other)),
    }
}
