//! The receive → identify → route → admit → (plan → send → relay)* → settle
//! walk of one inference request (see [`crate::lifecycle`]). Each candidate
//! is planned on its own and tried in order; the next one gets its turn only
//! when the previous failed before any byte reached the client.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::HeaderValue;
use serde_json::{json, Value};
use switchyard_protocol::anthropic::request::{self as anthropic_request, AnthropicTarget};
use switchyard_protocol::canonical::estimate::estimate_input_tokens;
use switchyard_protocol::canonical::ConvertError;
use switchyard_protocol::raw_json::{RawJsonError, RawObject};
use switchyard_protocol::translate::translate_request;

use crate::call::{send_and_relay, Call, Failed, Relaying};
use crate::error::GatewayError;
use crate::inbound::{Inbound, InboundHeaders};
use crate::lifecycle::{Attempt, Hooks, RequestContext, Settlement};
use crate::plan::{plan, Plan, Refusal};
use crate::provider::Provider;
use crate::request_type::BaseFormat;
use crate::response::{Failure, ProxyBody, ProxyResponse};
use crate::routing::{candidates, falls_back, Candidate};
use crate::snapshot::Snapshot;
use crate::usage::{estimate_tokens, End};

/// Serves one inbound request end to end, settling it exactly once.
pub(crate) async fn run(
    snapshot: Arc<Snapshot>,
    hooks: Hooks,
    inbound: Inbound,
    body: Bytes,
    headers: InboundHeaders,
) -> Result<ProxyResponse, Failure> {
    // receive
    let request_id = headers.request_id.clone().unwrap_or_else(generated_id);
    let mut ctx = RequestContext::new(request_id, inbound);
    ctx.user_agent = headers.user_agent.clone();
    ctx.estimated_input_tokens = estimate_tokens(body.len());
    ctx.body = body.clone();
    (ctx.traceparent, ctx.tracestate) = crate::observability::trace::client_context(&headers.forwarded);
    let mut settlement = Settlement::new(ctx, hooks);
    let prepared = prepare(&snapshot, &mut settlement, &body, &headers).await;
    settlement.take_capture();
    let answer_headers = std::mem::take(&mut settlement.ctx.response_headers);
    let (obj, candidates) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            settlement.fail(&e);
            return Err(Failure { error: e, headers: answer_headers });
        }
    };
    // plan, send, relay: per candidate
    let last = candidates.len().saturating_sub(1);
    let mut failures = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        settlement.ctx.provider = Some(c.provider.name.clone());
        settlement.ctx.served_model = Some(c.model.clone());
        settlement.ctx.upstream_headers.clear();
        for h in settlement.hooks().clone().iter() {
            h.attempt(&mut settlement.ctx);
        }
        let attempt = try_candidate(&snapshot, inbound, &obj, &body, c, &headers, settlement).await;
        match attempt {
            Ok(mut resp) => {
                resp.served_by = c.label();
                resp.attempts = u32::try_from(i + 1).unwrap_or(u32::MAX);
                resp.headers = answer_headers;
                return Ok(resp);
            }
            Err(failed) => {
                let Failed { error, settlement: mut s } = *failed;
                s.ctx.attempts.push(Attempt { candidate: c.label(), error: Some(error.kind().to_string()) });
                if i < last && falls_back(&error) {
                    tracing::warn!(candidate = %c.label(), error = %error, "candidate failed; trying the next");
                    failures.push((c.label(), error));
                    settlement = s;
                    continue;
                }
                let error = if failures.is_empty() {
                    error
                } else {
                    failures.push((c.label(), error));
                    GatewayError::AllCandidatesFailed { failures }
                };
                s.fail(&error);
                return Err(Failure { error, headers: answer_headers });
            }
        }
    }
    // Only reached with no candidates, which `candidates` never returns.
    Err(GatewayError::AllCandidatesFailed { failures }.into())
}

/// The receive phase: shallow parse and the shape every dialect requires.
fn receive<'b>(
    ctx: &mut RequestContext,
    body: &'b [u8],
    headers: &InboundHeaders,
) -> Result<RawObject<'b>, GatewayError> {
    let obj = RawObject::parse(body).map_err(invalid_json)?;
    ctx.requested_model = obj.required_str("model").map_err(invalid_json)?;
    ctx.stream = ctx.inbound.streams() && obj.optional_bool("stream").map_err(invalid_json)?.unwrap_or(false);
    check_shape(ctx.inbound, &obj, ctx.stream)?;
    ctx.user = headers.user.clone().or_else(|| body_user(ctx.inbound, &obj));
    ctx.max_output_tokens = ["max_tokens", "max_completion_tokens", "max_output_tokens"]
        .iter()
        .find_map(|k| obj.get(k).and_then(|v| v.get().parse::<u64>().ok()));
    Ok(obj)
}

/// OpenAI's `user`, or Anthropic's `metadata.user_id`.
fn body_user(inbound: Inbound, obj: &RawObject<'_>) -> Option<String> {
    match inbound {
        Inbound::AnthropicMessages | Inbound::AnthropicCountTokens => {
            #[derive(serde::Deserialize)]
            struct Metadata {
                user_id: Option<String>,
            }
            obj.parse_member::<Metadata>("metadata").ok().flatten().and_then(|m| m.user_id)
        }
        _ => obj.parse_member::<String>("user").ok().flatten(),
    }
}

/// receive → identify → route → admit: everything before the first upstream call.
async fn prepare<'b>(
    snapshot: &Snapshot,
    settlement: &mut Settlement,
    body: &'b [u8],
    headers: &InboundHeaders,
) -> Result<(RawObject<'b>, Vec<Candidate>), GatewayError> {
    let obj = receive(&mut settlement.ctx, body, headers)?;
    let hooks = settlement.hooks().clone();
    for h in hooks.iter() {
        h.identify(&mut settlement.ctx, &headers.credentials)?;
    }
    let ctx = &mut settlement.ctx;
    let candidates = candidates(snapshot, &ctx.requested_model, &obj)?;
    if snapshot.config.routes.contains_key(&ctx.requested_model) {
        ctx.route = Some(ctx.requested_model.clone());
    }
    ctx.candidates = candidates.iter().map(Candidate::label).collect();
    for h in hooks.iter() {
        h.admit(&mut settlement.ctx).await?;
    }
    Ok((obj, candidates))
}

/// One candidate: plan, then one call (with the provider's retries).
async fn try_candidate(
    snapshot: &Arc<Snapshot>,
    inbound: Inbound,
    obj: &RawObject<'_>,
    body: &Bytes,
    candidate: &Candidate,
    headers: &InboundHeaders,
    mut settlement: Settlement,
) -> Result<ProxyResponse, Box<Failed>> {
    let provider = &candidate.provider;
    let stream = settlement.ctx.stream;
    let planned = match plan(inbound, provider.base_format, provider.allowed, stream) {
        Ok(p) => p,
        Err(r) => return Err(Failed::boxed(refused(provider, r), settlement)),
    };
    let (request_type, body, relaying) = match planned {
        Plan::LocalCountTokens => return local_count_tokens(provider, body, settlement),
        Plan::Passthrough { request_type, dialect } => {
            let strip_usage = wants_injected_usage(inbound, provider, obj, stream);
            let set = if strip_usage { vec![include_usage(obj)] } else { Vec::new() };
            let upstream = Bytes::from(provider.drop_fields.rewrite_raw(obj, &candidate.model, &set));
            (request_type, upstream, Relaying::Passthrough { dialect, strip_usage })
        }
        Plan::Translate { request_type } => match translated_body(inbound, provider, &candidate.model, body) {
            Ok((upstream, translation)) => (request_type, upstream, Relaying::Translate(translation)),
            Err(error) => return Err(Failed::boxed(error, settlement)),
        },
    };
    settlement.status = 0;
    let call =
        Call { snapshot, provider, model: &candidate.model, inbound, request_type, stream, headers, body, relaying };
    send_and_relay(call, settlement).await
}

/// An OpenAI chat stream passed through without usage asked for: asked for
/// here (usage is what limits and logs need) and hidden again by the tap,
/// unless the provider's shaping removes `stream_options`.
fn wants_injected_usage(inbound: Inbound, provider: &Provider, obj: &RawObject<'_>, stream: bool) -> bool {
    #[derive(serde::Deserialize)]
    struct StreamOptions {
        include_usage: Option<bool>,
    }
    let asked = obj.parse_member::<StreamOptions>("stream_options").ok().flatten().and_then(|o| o.include_usage);
    stream
        && inbound == Inbound::OpenAiChat
        && provider.base_format == BaseFormat::Openai
        && asked != Some(true)
        && !provider.drop_fields.touches("stream_options")
}

/// `stream_options` with `include_usage: true`, keeping the client's other options.
fn include_usage(obj: &RawObject<'_>) -> (String, Vec<u8>) {
    let mut options =
        obj.parse_member::<serde_json::Map<String, Value>>("stream_options").ok().flatten().unwrap_or_default();
    options.insert("include_usage".into(), Value::Bool(true));
    ("stream_options".into(), serde_json::to_vec(&options).unwrap_or_default())
}

fn translated_body(
    inbound: Inbound,
    provider: &Provider,
    upstream_model: &str,
    body: &[u8],
) -> Result<(Bytes, switchyard_protocol::translate::Translation), GatewayError> {
    if !inbound.streams() {
        // Embeddings and count_tokens have no canonical form.
        return Err(GatewayError::invalid("this request cannot be translated", None));
    }
    let client = inbound.dialect();
    let upstream = provider.base_format.upstream_dialect();
    let value: Value = serde_json::from_slice(body).map_err(|e| GatewayError::invalid(e.to_string(), None))?;
    let target = AnthropicTarget { default_max_tokens: provider.default_max_tokens };
    let (mut upstream_body, translation) =
        translate_request(client, upstream, &value, upstream_model, &target, now()).map_err(convert_err)?;
    provider.drop_fields.apply(&mut upstream_body);
    Ok((Bytes::from(serde_json::to_vec(&upstream_body).unwrap_or_default()), translation))
}

fn local_count_tokens(
    provider: &Provider,
    body: &[u8],
    mut settlement: Settlement,
) -> Result<ProxyResponse, Box<Failed>> {
    let counted = serde_json::from_slice::<Value>(body)
        .map_err(|e| GatewayError::invalid(e.to_string(), None))
        .and_then(|v| anthropic_request::request_to_canonical(&v).map_err(convert_err));
    let req = match counted {
        Ok(r) => r,
        Err(error) => return Err(Failed::boxed(error, settlement)),
    };
    let tokens = estimate_input_tokens(&req);
    settlement.status = 200;
    // Counting consumes nothing.
    settlement.meter.report(&Default::default(), true, true);
    settlement.finish(End::Completed, None);
    Ok(ProxyResponse::new(
        200,
        Some(HeaderValue::from_static("application/json")),
        &provider.name,
        ProxyBody::Full(Bytes::from(json!({"input_tokens": tokens}).to_string())),
    ))
}

fn refused(p: &Provider, r: Refusal) -> GatewayError {
    match r {
        Refusal::NotAllowed(t) => GatewayError::RequestTypeNotAllowed {
            provider: p.name.clone(),
            request_type: t,
            allowed: p.allowed_names(),
        },
        Refusal::Unsupported { request_type, detail } => GatewayError::Unsupported {
            provider: p.name.clone(),
            base_format: p.base_format.to_string(),
            request_type,
            detail: Some(detail.into()),
        },
    }
}

/// A request id for callers that bring none (the SDK, the admin test call).
fn generated_id() -> String {
    format!("req_{:032x}", rand::random::<u128>())
}

fn invalid_json(e: RawJsonError) -> GatewayError {
    let param = e.param().map(str::to_string);
    GatewayError::InvalidRequest { message: e.to_string(), param }
}

fn convert_err(e: ConvertError) -> GatewayError {
    GatewayError::InvalidRequest { message: e.message, param: e.param }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// `messages[i].role` must be a string: an upstream would refuse it anyway,
/// with a message that names no field (the scan skips contents unparsed).
fn check_roles(obj: &RawObject<'_>) -> Result<(), GatewayError> {
    #[derive(serde::Deserialize)]
    struct Message {
        role: Option<Value>,
    }
    // Other members are skipped by the parser, not built.
    let Ok(Some(messages)) = obj.parse_member::<Vec<Message>>("messages") else { return Ok(()) };
    match messages.iter().position(|m| !m.role.as_ref().is_some_and(Value::is_string)) {
        None => Ok(()),
        Some(i) => Err(GatewayError::invalid(
            format!("`messages[{i}].role` must be a string"),
            Some(&format!("messages[{i}].role")),
        )),
    }
}

/// A token limit, when given, is a positive whole number.
fn check_max_tokens(obj: &RawObject<'_>, key: &str) -> Result<(), GatewayError> {
    match obj.get(key).map(|v| v.get()) {
        None | Some("null") => Ok(()),
        Some(raw) if raw.parse::<u64>().is_ok_and(|n| n > 0) => Ok(()),
        Some(raw) => Err(GatewayError::invalid(format!("`{key}` must be a positive integer, got {raw}"), Some(key))),
    }
}

/// Validates what every dialect requires before anything goes upstream.
pub(crate) fn check_shape(inbound: Inbound, obj: &RawObject<'_>, stream: bool) -> Result<(), GatewayError> {
    match inbound {
        Inbound::OpenAiChat => {
            obj.require_non_empty_array("messages").map_err(invalid_json)?;
            check_roles(obj)?;
            check_max_tokens(obj, "max_tokens")?;
            check_max_tokens(obj, "max_completion_tokens")?;
            if !stream && obj.get("stream_options").is_some_and(|v| v.get() != "null") {
                return Err(GatewayError::invalid(
                    "`stream_options` is only allowed when `stream` is true",
                    Some("stream_options"),
                ));
            }
        }
        Inbound::AnthropicMessages => {
            obj.require_non_empty_array("messages").map_err(invalid_json)?;
            check_roles(obj)?;
            check_max_tokens(obj, "max_tokens")?;
            if !obj.contains("max_tokens") {
                return Err(GatewayError::invalid("`max_tokens` is required", Some("max_tokens")));
            }
        }
        Inbound::AnthropicCountTokens => obj.require_non_empty_array("messages").map_err(invalid_json)?,
        Inbound::OpenAiResponses if !obj.contains("input") => {
            return Err(GatewayError::invalid("`input` is required", Some("input")))
        }
        Inbound::OpenAiCompletions if !obj.contains("prompt") => {
            return Err(GatewayError::invalid("`prompt` is required", Some("prompt")))
        }
        Inbound::OpenAiEmbeddings if !obj.contains("input") => {
            return Err(GatewayError::invalid("`input` is required", Some("input")))
        }
        _ => {}
    }
    Ok(())
}
