//! Tool names an OpenAI upstream accepts, and the way back to the client's own.

/// OpenAI tool names must match `^[a-zA-Z0-9_-]{1,64}$`; longer or odd names
/// (e.g. MCP tools) are shortened to 55 chars + `_` + 8 hex of a hash, and
/// mapped back on the way out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolNames {
    map: Vec<(String, String)>,
}

/// FNV-1a: a stable short hash (names and ids must map the same way on every run).
pub(crate) fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl ToolNames {
    pub fn to_openai(&mut self, name: &str) -> String {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if valid {
            return name.to_string();
        }
        let cleaned: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).take(55).collect();
        let short = format!("{cleaned}_{:08x}", fnv1a(name) as u32);
        if !self.map.iter().any(|(s, _)| *s == short) {
            self.map.push((short.clone(), name.to_string()));
        }
        short
    }

    pub fn original(&self, name: &str) -> String {
        self.map.iter().find(|(s, _)| s == name).map(|(_, o)| o.clone()).unwrap_or_else(|| name.to_string())
    }
}
