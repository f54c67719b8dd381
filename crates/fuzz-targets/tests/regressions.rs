//! Inputs the fuzzers once crashed on, fed to their targets again. Each case
//! names the target and the file under `fuzz/corpus/<target>/` (crash inputs
//! are kept in the corpus, so both fuzzers start from them too).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use switchyard_fuzz_targets::{corpus, target};

fn replay(target_name: &str, file: &str) {
    let t = target(target_name).unwrap_or_else(|| panic!("no target {target_name}"));
    let path = corpus::fuzz_dir().join("corpus").join(target_name).join(file);
    let input = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (t.run)(&input);
}

/// fuzz-run, first CI-length run: `Usage::total_input` (`canonical/mod.rs`)
/// adds `input + cache_read + cache_write` unchecked, so an upstream that
/// reports `cache_read_input_tokens: 18446744073709551615` in `message_start`
/// overflows when the stream is re-encoded ("attempt to add with overflow" in
/// debug builds; a wrapped, wrong total in release builds).
#[test]
fn anthropic_stream_with_huge_cache_read_tokens() {
    replay("anthropic_stream", "crash-usage-total-input-overflow");
}

/// Same family: `Usage::total` adds `total_input() + output` unchecked; a
/// chat completion with `completion_tokens: u64::MAX` overflows on the way
/// back to the client.
#[test]
fn upstream_response_with_huge_completion_tokens() {
    replay("upstream_response", "crash-usage-total-overflow");
}

/// Found once `Usage::total` saturated (fuzz-run, 12 s): OpenAI `usage_from`
/// (`openai/chat/response.rs`) adds `cached_tokens + cache_write_tokens`
/// unchecked before subtracting them from `prompt_tokens`.
#[test]
fn upstream_response_with_huge_cache_write_tokens() {
    replay("upstream_response", "crash-usage-cached-plus-written-overflow");
}

/// Inputs small enough to read, kept inline as well.
#[test]
fn small_awkward_inputs_do_not_panic() {
    let inputs: &[&[u8]] =
        &[b"", b"{", b"{}", b"[]", b"null", b"\xff", b"data:\r", b"\r\n\r\n", b"{\"model\":\"\\ud800\"}"];
    for t in switchyard_fuzz_targets::TARGETS {
        for input in inputs {
            (t.run)(input);
        }
    }
}

/// Crash inputs with a test of their own above.
const NAMED: &[&str] =
    &["crash-usage-total-input-overflow", "crash-usage-total-overflow", "crash-usage-cached-plus-written-overflow"];

/// Every other `crash-*` file in the corpus (a new finding needs only its file).
#[test]
fn crash_inputs_in_the_corpus_do_not_panic() {
    let root = corpus::fuzz_dir().join("corpus");
    for t in switchyard_fuzz_targets::TARGETS {
        for (name, _) in corpus::seeds(&root.join(t.name)).unwrap_or_default() {
            if name.starts_with("crash-") && !NAMED.contains(&name.as_str()) {
                replay(t.name, &name);
            }
        }
    }
}
