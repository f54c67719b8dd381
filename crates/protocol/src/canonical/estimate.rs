//! A local token estimate for `count_tokens` when the upstream cannot count:
//! about four characters per token for text (the usual rule of thumb for
//! English with BPE tokenizers), a flat cost per image and per tool, and a
//! small overhead per message. It is an estimate and is documented as such.

use super::{Block, Request};

const CHARS_PER_TOKEN: usize = 4;
const PER_MESSAGE: u64 = 4;
const PER_IMAGE: u64 = 1_600;
const PER_TOOL: u64 = 8;

fn text_tokens(s: &str) -> u64 {
    s.chars().count().div_ceil(CHARS_PER_TOKEN) as u64
}

fn block_tokens(b: &Block) -> u64 {
    match b {
        Block::Text(t) => text_tokens(&t.text),
        Block::Image { .. } | Block::Document { .. } => PER_IMAGE,
        Block::ToolCall(c) => text_tokens(&c.name) + text_tokens(&c.arguments),
        Block::ToolResult(r) => r.content.iter().map(block_tokens).sum::<u64>() + 2,
        Block::Thinking { text, .. } => text_tokens(text),
        Block::RedactedThinking { data } => text_tokens(data) / 4,
    }
}

pub fn estimate_input_tokens(req: &Request) -> u64 {
    let system: u64 = req.system.iter().map(|t| text_tokens(&t.text)).sum();
    let messages: u64 =
        req.messages.iter().map(|m| PER_MESSAGE + m.content.iter().map(block_tokens).sum::<u64>()).sum();
    let tools: u64 = req
        .tools
        .iter()
        .map(|t| {
            PER_TOOL
                + text_tokens(&t.name)
                + t.description.as_deref().map(text_tokens).unwrap_or(0)
                + text_tokens(&t.parameters.to_string())
        })
        .sum();
    (system + messages + tools).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::{Message, Role, Text};

    #[test]
    fn grows_with_content() {
        let mut req = Request::default();
        let base = estimate_input_tokens(&req);
        req.messages.push(Message { role: Role::User, content: vec![Block::Text(Text::plain("x".repeat(400)))] });
        assert_eq!(estimate_input_tokens(&req), 104);
        assert!(estimate_input_tokens(&req) > base);
    }
}
