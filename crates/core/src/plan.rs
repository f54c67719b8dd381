//! The plan phase: per candidate, the cheapest operation its provider allows
//! (architecture.md's table):
//! 1. same dialect, allowed → passthrough (rewrite `model`, forward bytes);
//! 2. different dialect → translate through the canonical model;
//! 3. same dialect not allowed but chat is → emulate via chat;
//! 4. otherwise a refusal naming what is missing.
//!
//! Pure: it reads only the inbound API, the base format and the allowed set.

use crate::inbound::Inbound;
use crate::request_type::{BaseFormat, RequestType, RequestTypeSet};
use switchyard_protocol::dialect::Dialect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Forward the client's body (model rewritten) to `request_type`'s endpoint.
    Passthrough { request_type: RequestType, dialect: Dialect },
    /// Translate to the base format's chat/messages endpoint (also how a same-dialect
    /// request without its own endpoint is emulated).
    Translate { request_type: RequestType },
    /// Anthropic `count_tokens` answered by a local estimate.
    LocalCountTokens,
}

/// Why no plan exists for a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The provider does not allow this request type (nor one that could serve it).
    NotAllowed(RequestType),
    /// The base format has no such operation at all.
    Unsupported { request_type: RequestType, detail: &'static str },
}

pub fn plan(inbound: Inbound, base: BaseFormat, allowed: RequestTypeSet, stream: bool) -> Result<Plan, Refusal> {
    let own = inbound.request_type(stream);
    let chat = if stream { RequestType::ChatCompletionStream } else { RequestType::ChatCompletion };
    let passthrough = |request_type: RequestType, dialect| {
        if allowed.contains(request_type) {
            Ok(Plan::Passthrough { request_type, dialect })
        } else {
            Err(Refusal::NotAllowed(own))
        }
    };
    let via_chat = || {
        if allowed.contains(chat) {
            Ok(Plan::Translate { request_type: chat })
        } else {
            Err(Refusal::NotAllowed(own))
        }
    };
    match (inbound, base) {
        (Inbound::OpenAiChat, BaseFormat::Openai) => passthrough(own, Dialect::OpenAiChat),
        (Inbound::OpenAiResponses, BaseFormat::Openai) if allowed.contains(own) => {
            passthrough(own, Dialect::OpenAiResponses)
        }
        (Inbound::OpenAiCompletions, BaseFormat::Openai) if allowed.contains(own) => {
            passthrough(own, Dialect::OpenAiCompletions)
        }
        (Inbound::OpenAiEmbeddings, BaseFormat::Openai) => passthrough(own, Dialect::OpenAiChat),
        (Inbound::OpenAiEmbeddings, BaseFormat::Anthropic) => {
            Err(Refusal::Unsupported { request_type: own, detail: "the Anthropic API has no embeddings endpoint" })
        }
        (Inbound::AnthropicMessages, BaseFormat::Anthropic) => passthrough(chat, Dialect::AnthropicMessages),
        (Inbound::AnthropicCountTokens, BaseFormat::Anthropic) if allowed.contains(own) => {
            passthrough(own, Dialect::AnthropicMessages)
        }
        (Inbound::AnthropicCountTokens, _) => Ok(Plan::LocalCountTokens),
        // Chat on anthropic; Messages on openai; Responses and Completions on
        // anthropic, or on openai without their own endpoint: via chat/messages.
        _ => via_chat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// architecture.md's table, written as its rows read, independently of `plan`.
    fn table(inbound: Inbound, base: BaseFormat, allowed: RequestTypeSet, stream: bool) -> &'static str {
        let own = allowed.contains(inbound.request_type(stream));
        let chat =
            allowed.contains(if stream { RequestType::ChatCompletionStream } else { RequestType::ChatCompletion });
        use BaseFormat::{Anthropic, Openai};
        match (inbound, base) {
            // openai.chat: passthrough | translate → /v1/messages
            (Inbound::OpenAiChat, Openai) if own => "passthrough",
            (Inbound::OpenAiChat, Anthropic) if chat => "translate",
            // openai.responses, openai.completions: passthrough, or emulate via chat | translate
            (Inbound::OpenAiResponses | Inbound::OpenAiCompletions, Openai) if own => "passthrough",
            (Inbound::OpenAiResponses | Inbound::OpenAiCompletions, _) if chat => "translate",
            // openai.embeddings: passthrough | unsupported
            (Inbound::OpenAiEmbeddings, Openai) if own => "passthrough",
            (Inbound::OpenAiEmbeddings, Anthropic) => "unsupported",
            // anthropic.messages: translate → chat | passthrough
            (Inbound::AnthropicMessages, Openai) if chat => "translate",
            (Inbound::AnthropicMessages, Anthropic) if chat => "passthrough",
            // anthropic.count_tokens: local estimate | passthrough, or local estimate
            (Inbound::AnthropicCountTokens, Anthropic) if own => "passthrough",
            (Inbound::AnthropicCountTokens, _) => "local",
            _ => "not allowed",
        }
    }

    fn name(p: &Result<Plan, Refusal>) -> &'static str {
        match p {
            Ok(Plan::Passthrough { .. }) => "passthrough",
            Ok(Plan::Translate { .. }) => "translate",
            Ok(Plan::LocalCountTokens) => "local",
            Err(Refusal::NotAllowed(_)) => "not allowed",
            Err(Refusal::Unsupported { .. }) => "unsupported",
        }
    }

    #[test]
    fn every_cell_matches_the_architecture_table() {
        let mut cells = 0;
        for inbound in Inbound::ALL {
            for base in BaseFormat::ALL {
                for stream in [false, true] {
                    if stream && !inbound.streams() {
                        continue;
                    }
                    // Every subset of the types that matter here: the request's own and chat's.
                    let own = inbound.request_type(stream);
                    let chat = if stream { RequestType::ChatCompletionStream } else { RequestType::ChatCompletion };
                    for mask in 0..4u8 {
                        let mut allowed = RequestTypeSet::empty();
                        if mask & 1 != 0 {
                            allowed.insert(own);
                        }
                        if mask & 2 != 0 {
                            allowed.insert(chat);
                        }
                        let got = plan(inbound, base, allowed, stream);
                        let want = table(inbound, base, allowed, stream);
                        assert_eq!(name(&got), want, "{inbound:?} on {base:?}, stream {stream}, mask {mask}: {got:?}");
                        cells += 1;
                    }
                }
            }
        }
        assert_eq!(cells, 80);
    }

    #[test]
    fn plans_name_the_endpoint_and_the_stream_dialect() {
        let all = RequestTypeSet::all();
        assert_eq!(
            plan(Inbound::OpenAiResponses, BaseFormat::Openai, all, true),
            Ok(Plan::Passthrough { request_type: RequestType::ResponsesStream, dialect: Dialect::OpenAiResponses })
        );
        assert_eq!(
            plan(Inbound::AnthropicMessages, BaseFormat::Anthropic, all, true),
            Ok(Plan::Passthrough {
                request_type: RequestType::ChatCompletionStream,
                dialect: Dialect::AnthropicMessages
            })
        );
        assert_eq!(
            plan(Inbound::OpenAiCompletions, BaseFormat::Anthropic, all, false),
            Ok(Plan::Translate { request_type: RequestType::ChatCompletion })
        );
        let mut chat_only = RequestTypeSet::empty();
        chat_only.insert(RequestType::ChatCompletion);
        assert_eq!(
            plan(Inbound::OpenAiResponses, BaseFormat::Openai, chat_only, false),
            Ok(Plan::Translate { request_type: RequestType::ChatCompletion }),
            "emulated via chat"
        );
        assert_eq!(
            plan(Inbound::OpenAiChat, BaseFormat::Openai, chat_only, true),
            Err(Refusal::NotAllowed(RequestType::ChatCompletionStream))
        );
    }
}
