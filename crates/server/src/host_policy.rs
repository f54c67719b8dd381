//! Which `Host` values the server answers: loopback names, and the names an
//! operator allows (see [`crate::guard`] for why).

use std::net::IpAddr;
use std::sync::Arc;

/// Which `Host` values the server answers.
#[derive(Debug, Clone, Default)]
pub struct HostPolicy {
    /// Loopback names are accepted (and, with `check`, nothing else but `allowed`).
    pub check: bool,
    /// Extra host names (no port), lower case.
    pub allowed: Vec<String>,
}

impl HostPolicy {
    /// The policy for an open (tokenless) admin or a configured list.
    pub fn new(admin_open: bool, allowed: Vec<String>) -> Arc<Self> {
        let allowed: Vec<String> =
            allowed.into_iter().map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
        Arc::new(Self { check: admin_open || !allowed.is_empty(), allowed })
    }

    pub(crate) fn accepts(&self, host: &str) -> bool {
        // Compared without lowercasing into a new string: this runs on every request.
        let name = host_name(host);
        is_loopback_name(name) || self.allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// The host part of a `Host` value (`[::1]:8080` → `::1`, `a:80` → `a`).
pub(crate) fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    host.rsplit_once(':').map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host })
}

fn is_loopback_name(name: &str) -> bool {
    let dotted = name.len() > 10 && name.get(name.len() - 10..).is_some_and(|t| t.eq_ignore_ascii_case(".localhost"));
    name.eq_ignore_ascii_case("localhost") || dotted || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(host_name("[::1]:8080"), "::1");
        assert_eq!(host_name("localhost:8080"), "localhost");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
        let p = HostPolicy::new(true, vec!["Gateway.Internal".into()]);
        for ok in ["localhost:1", "127.0.0.1:8080", "127.1.2.3", "[::1]:80", "gateway.internal:8080", "a.localhost"] {
            assert!(p.accepts(ok), "{ok}");
        }
        for bad in ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "0.0.0.0", "[::2]"] {
            assert!(!p.accepts(bad), "{bad}");
        }
    }
}
