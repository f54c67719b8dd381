//! The scripted "model" behind every fake endpoint (chat, Anthropic messages,
//! Responses). Pure: a request body goes in, a [`Reply`] comes out.
//!
//! Each wire format is first reduced to a [`Conversation`] (model, offered tool
//! names, tool outputs since the last assistant turn, latest user text), and
//! [`reply`] decides from that alone, so the three endpoints behave the same and
//! a translating gateway can be judged by the answer it relays:
//!
//! - tool outputs since the last assistant turn: a text answer quoting them —
//!   `Agent task complete: <output, trimmed>` when a coding-agent tool is offered
//!   (`Bash` or `exec_command`), else `The tool said: <output>`;
//! - `Bash` offered (Claude Code): call it with
//!   `{"command":"echo switchyard-agent-ok","description":"Print a marker"}`;
//! - `exec_command` offered (Codex CLI): call it with `{"cmd":"echo switchyard-agent-ok"}`;
//! - any other tools: call the first one with `{"location":"Paris"}`;
//! - no tools (side requests such as titles): `Hello from <model>! You said: <user text>`.

use serde_json::Value;

/// What the agent's shell command prints; the final answer quotes it.
pub const AGENT_MARKER: &str = "switchyard-agent-ok";

/// Tool that Claude Code offers for shell commands.
pub const CLAUDE_CODE_TOOL: &str = "Bash";

/// Tool that Codex CLI offers for shell commands.
pub const CODEX_TOOL: &str = "exec_command";

/// Arguments of the scripted `Bash` call (a JSON object, as a string).
pub const BASH_ARGUMENTS: &str = r#"{"command":"echo switchyard-agent-ok","description":"Print a marker"}"#;

/// Arguments of the scripted `exec_command` call.
pub const EXEC_COMMAND_ARGUMENTS: &str = r#"{"cmd":"echo switchyard-agent-ok"}"#;

/// Arguments for any other tool (the historical weather-tool answer).
pub const DEFAULT_ARGUMENTS: &str = r#"{"location":"Paris"}"#;

/// The scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Text(String),
    /// `arguments` is a JSON object serialized as a string (the OpenAI form).
    ToolCall {
        name: String,
        arguments: String,
    },
}

impl Reply {
    pub fn text(&self) -> Option<&str> {
        match self {
            Reply::Text(t) => Some(t),
            Reply::ToolCall { .. } => None,
        }
    }
}

/// A request reduced to what the script looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conversation {
    pub model: String,
    /// Names of the client tools offered, in request order.
    pub tools: Vec<String>,
    /// Outputs of tool calls carried after the last assistant turn, in order.
    pub tool_results: Vec<String>,
    /// Text of the latest user turn (empty if none).
    pub last_user_text: String,
}

impl Conversation {
    /// OpenAI Chat Completions request (`messages`, `tools[].function.name`).
    pub fn from_chat(req: &Value) -> Self {
        let messages = array(&req["messages"]);
        let tools = array(&req["tools"])
            .iter()
            .filter_map(|t| t["function"]["name"].as_str().or_else(|| t["name"].as_str()))
            .map(str::to_string)
            .collect();
        let after_assistant = messages.iter().rposition(|m| m["role"] == "assistant").map_or(0, |i| i + 1);
        let tool_results = messages[after_assistant..]
            .iter()
            .filter(|m| m["role"] == "tool" || m["role"] == "function")
            .map(|m| text_of(&m["content"]))
            .collect();
        let last_user_text =
            messages.iter().rev().find(|m| m["role"] == "user").map(|m| text_of(&m["content"])).unwrap_or_default();
        Conversation { model: model_of(req), tools, tool_results, last_user_text }
    }

    /// Anthropic Messages request (`messages` with content blocks, `tools[].name`).
    pub fn from_messages(req: &Value) -> Self {
        let messages = array(&req["messages"]);
        let tools = array(&req["tools"]).iter().filter_map(|t| t["name"].as_str()).map(str::to_string).collect();
        let after_assistant = messages.iter().rposition(|m| m["role"] == "assistant").map_or(0, |i| i + 1);
        let tool_results = messages[after_assistant..]
            .iter()
            .filter(|m| m["role"] == "user")
            .flat_map(|m| array(&m["content"]))
            .filter(|b| b["type"] == "tool_result")
            .map(|b| text_of(&b["content"]))
            .collect();
        let last_user_text = messages
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .map(|m| match &m["content"] {
                Value::Array(blocks) => {
                    blocks.iter().filter(|b| b["type"] == "text").filter_map(|b| b["text"].as_str()).collect()
                }
                other => text_of(other),
            })
            .unwrap_or_default();
        Conversation { model: model_of(req), tools, tool_results, last_user_text }
    }

    /// OpenAI Responses request (`input` string or items, flat function tools,
    /// `namespace` tools holding more function tools).
    pub fn from_responses(req: &Value) -> Self {
        let mut tools = Vec::new();
        for t in array(&req["tools"]) {
            if t["type"] == "namespace" {
                tools.extend(array(&t["tools"]).iter().filter_map(|n| n["name"].as_str()).map(str::to_string));
            } else if let Some(name) = t["name"].as_str() {
                tools.push(name.to_string());
            }
        }
        let (tool_results, last_user_text) = match &req["input"] {
            Value::String(s) => (Vec::new(), s.clone()),
            Value::Array(items) => {
                let is_model_output = |i: &Value| {
                    matches!(
                        i["type"].as_str(),
                        Some("function_call" | "custom_tool_call" | "local_shell_call" | "reasoning")
                    ) || i["role"] == "assistant"
                };
                let after_output = items.iter().rposition(is_model_output).map_or(0, |i| i + 1);
                let results = items[after_output..]
                    .iter()
                    .filter(|i| matches!(i["type"].as_str(), Some("function_call_output" | "custom_tool_call_output")))
                    .map(|i| text_of(&i["output"]))
                    .collect();
                let user = items
                    .iter()
                    .rev()
                    .find(|i| i["role"] == "user" && (i["type"].is_null() || i["type"] == "message"))
                    .map(|i| text_of(&i["content"]))
                    .unwrap_or_default();
                (results, user)
            }
            _ => (Vec::new(), String::new()),
        };
        Conversation { model: model_of(req), tools, tool_results, last_user_text }
    }

    /// Whether a coding agent's shell tool is among the offered tools.
    pub fn is_agent(&self) -> bool {
        self.tools.iter().any(|t| t == CLAUDE_CODE_TOOL || t == CODEX_TOOL)
    }
}

/// The scripted answer for a conversation.
pub fn reply(c: &Conversation) -> Reply {
    if !c.tool_results.is_empty() {
        if c.is_agent() {
            let outputs: Vec<&str> = c.tool_results.iter().map(|o| command_output(o)).collect();
            return Reply::Text(format!("Agent task complete: {}", outputs.join("\n").trim()));
        }
        return Reply::Text(format!("The tool said: {}", c.tool_results.join("\n")));
    }
    let call =
        |name: &str, arguments: &str| Reply::ToolCall { name: name.to_string(), arguments: arguments.to_string() };
    if c.tools.iter().any(|t| t == CLAUDE_CODE_TOOL) {
        return call(CLAUDE_CODE_TOOL, BASH_ARGUMENTS);
    }
    if c.tools.iter().any(|t| t == CODEX_TOOL) {
        return call(CODEX_TOOL, EXEC_COMMAND_ARGUMENTS);
    }
    if let Some(first) = c.tools.first() {
        return call(first, DEFAULT_ARGUMENTS);
    }
    Reply::Text(format!("Hello from {}! You said: {}", c.model, c.last_user_text))
}

/// The command's own output inside a tool result. Codex wraps it in a header
/// (`Chunk ID: …\nWall time: …\nProcess exited with code 0\n…\nOutput:\n<output>`);
/// Claude Code sends the bare output.
pub fn command_output(result: &str) -> &str {
    match result.find("\nOutput:\n") {
        Some(i) => &result[i + "\nOutput:\n".len()..],
        None => result.strip_prefix("Output:\n").unwrap_or(result),
    }
}

/// Concatenated text of a content value: a string, or parts/blocks with
/// `text` (also nested `content` of tool results).
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .map(|p| match (&p["text"], &p["content"]) {
                (Value::String(t), _) => t.clone(),
                (_, c @ (Value::String(_) | Value::Array(_))) => text_of(c),
                _ => String::new(),
            })
            .collect(),
        _ => String::new(),
    }
}

/// A deterministic token estimate: whitespace-separated words in every string
/// under text-bearing keys (`text`, `content`, `input`, `output`, `prompt`,
/// `system`, `instructions`, `arguments`, `description`, `thinking`), at least 1.
pub fn estimate_tokens(v: &Value) -> u64 {
    fn walk(v: &Value, counted: bool) -> u64 {
        match v {
            Value::String(s) if counted => s.split_whitespace().count() as u64,
            Value::Array(items) => items.iter().map(|i| walk(i, counted)).sum(),
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| {
                    let key = matches!(
                        k.as_str(),
                        "text"
                            | "content"
                            | "input"
                            | "output"
                            | "prompt"
                            | "system"
                            | "instructions"
                            | "arguments"
                            | "description"
                            | "thinking"
                            | "messages"
                    );
                    walk(v, key)
                })
                .sum(),
            _ => 0,
        }
    }
    walk(v, false).max(1)
}

fn array(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn model_of(req: &Value) -> String {
    req["model"].as_str().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bash_call() -> Reply {
        Reply::ToolCall { name: "Bash".into(), arguments: BASH_ARGUMENTS.into() }
    }

    #[test]
    fn scripted_arguments_are_json_objects() {
        for args in [BASH_ARGUMENTS, EXEC_COMMAND_ARGUMENTS, DEFAULT_ARGUMENTS] {
            let v: Value = serde_json::from_str(args).unwrap();
            assert!(v.is_object());
        }
        let bash: Value = serde_json::from_str(BASH_ARGUMENTS).unwrap();
        assert_eq!(bash["command"], format!("echo {AGENT_MARKER}"));
    }

    #[test]
    fn chat_without_tools_echoes_the_user() {
        let req = json!({"model": "m", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Hello!"}]}]});
        assert_eq!(reply(&Conversation::from_chat(&req)), Reply::Text("Hello from m! You said: Hello!".into()));
    }

    #[test]
    fn chat_with_a_weather_tool_keeps_the_historical_script() {
        let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]);
        let first = json!({"model": "m", "tools": tools, "messages": [{"role": "user", "content": "Weather?"}]});
        assert_eq!(
            reply(&Conversation::from_chat(&first)),
            Reply::ToolCall { name: "get_weather".into(), arguments: DEFAULT_ARGUMENTS.into() }
        );
        let second = json!({"model": "m", "tools": tools, "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny, 21C"}]});
        assert_eq!(reply(&Conversation::from_chat(&second)), Reply::Text("The tool said: sunny, 21C".into()));
    }

    #[test]
    fn chat_with_bash_is_the_claude_code_script() {
        let tools = json!([{"type": "function", "function": {"name": "Read"}}, {"type": "function", "function": {"name": "Bash"}}]);
        let first = json!({"model": "m", "tools": tools, "messages": [{"role": "user", "content": "Run it"}]});
        assert_eq!(reply(&Conversation::from_chat(&first)), bash_call());
        // The tool message may be followed by user text (e.g. a translated reminder block).
        let second = json!({"model": "m", "tools": tools, "messages": [
            {"role": "user", "content": "Run it"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "Bash", "arguments": BASH_ARGUMENTS}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "switchyard-agent-ok\n"},
            {"role": "user", "content": "<system-reminder>x</system-reminder>"}]});
        assert_eq!(
            reply(&Conversation::from_chat(&second)),
            Reply::Text("Agent task complete: switchyard-agent-ok".into())
        );
    }

    #[test]
    fn messages_first_turn_calls_bash_then_quotes_the_result() {
        let tools = json!([{"name": "Agent", "input_schema": {}}, {"name": "Bash", "input_schema": {}}]);
        let first = json!({"model": "m", "tools": tools, "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Run: echo switchyard-agent-ok"}]},
            {"role": "system", "content": "# Environment"}]});
        let c = Conversation::from_messages(&first);
        assert_eq!(c.last_user_text, "Run: echo switchyard-agent-ok");
        assert_eq!(reply(&c), bash_call());
        let second = json!({"model": "m", "tools": tools, "messages": [
            {"role": "user", "content": "Run: echo switchyard-agent-ok"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                "content": [{"type": "text", "text": "  switchyard-agent-ok\n"}], "is_error": false}]}]});
        assert_eq!(
            reply(&Conversation::from_messages(&second)),
            Reply::Text("Agent task complete: switchyard-agent-ok".into())
        );
    }

    #[test]
    fn messages_without_tools_is_a_plain_answer() {
        let req =
            json!({"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "Title this"}]});
        assert_eq!(
            reply(&Conversation::from_messages(&req)),
            Reply::Text("Hello from claude-x! You said: Title this".into())
        );
    }

    #[test]
    fn responses_codex_loop() {
        let tools = json!([
            {"type": "function", "name": "exec_command", "parameters": {}, "strict": false},
            {"type": "namespace", "name": "multi_agent_v1", "tools": [{"type": "function", "name": "spawn"}]},
            {"type": "web_search", "external_web_access": false}]);
        let first = json!({"model": "m", "tools": tools, "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "You are Codex"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Run: echo"}]}]});
        let c = Conversation::from_responses(&first);
        assert_eq!(c.tools, vec!["exec_command", "spawn"]);
        assert_eq!(c.last_user_text, "Run: echo");
        assert_eq!(
            reply(&c),
            Reply::ToolCall { name: "exec_command".into(), arguments: EXEC_COMMAND_ARGUMENTS.into() }
        );
        let second = json!({"model": "m", "tools": tools, "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Run: echo"}]},
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "exec_command", "arguments": EXEC_COMMAND_ARGUMENTS},
            {"type": "function_call_output", "id": "fco_1", "call_id": "call_1",
             "output": "Chunk ID: 4db1db\nWall time: 0.0000 seconds\nProcess exited with code 0\nOriginal token count: 3\nOutput:\nswitchyard-agent-ok\n"}]});
        assert_eq!(
            reply(&Conversation::from_responses(&second)),
            Reply::Text("Agent task complete: switchyard-agent-ok".into())
        );
    }

    #[test]
    fn responses_string_input_and_first_tool_fallback() {
        let plain = json!({"model": "m", "input": "Hi there"});
        assert_eq!(
            reply(&Conversation::from_responses(&plain)),
            Reply::Text("Hello from m! You said: Hi there".into())
        );
        let weather = json!({"model": "m", "input": "Weather?", "tools": [
            {"type": "web_search"}, {"type": "function", "name": "get_weather"}]});
        assert_eq!(
            reply(&Conversation::from_responses(&weather)),
            Reply::ToolCall { name: "get_weather".into(), arguments: DEFAULT_ARGUMENTS.into() }
        );
    }

    #[test]
    fn a_new_user_turn_after_a_finished_task_calls_again() {
        let tools = json!([{"name": "Bash", "input_schema": {}}]);
        let req = json!({"model": "m", "tools": tools, "messages": [
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Agent task complete: ok"}]},
            {"role": "user", "content": "two"}]});
        assert_eq!(reply(&Conversation::from_messages(&req)), bash_call());
    }

    #[test]
    fn command_output_strips_the_codex_header_only() {
        assert_eq!(command_output("Chunk ID: x\nOutput:\nhi\n"), "hi\n");
        assert_eq!(command_output("Output:\nhi"), "hi");
        assert_eq!(command_output("plain"), "plain");
    }

    #[test]
    fn token_estimate_counts_words_in_text_fields() {
        let req = json!({"model": "a b c", "system": "one two", "messages": [
            {"role": "user", "content": [{"type": "text", "text": "three four five"}]}]});
        assert_eq!(estimate_tokens(&req), 5);
        assert_eq!(estimate_tokens(&json!({})), 1);
    }
}
