//! The per-provider HTTP client: pooled keep-alive connections, TCP_NODELAY,
//! HTTP/2 where the upstream offers it (ALPN), rustls.

use std::sync::Once;
use std::time::Duration;

use crate::config::NetworkConfig;

static CRYPTO: Once = Once::new();

pub fn install_crypto_provider() {
    CRYPTO.call_once(|| {
        // Fails only if another provider was installed first, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

pub fn build_client(net: &NetworkConfig) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    let mut b = reqwest::Client::builder()
        // Small SSE frames must not wait for delayed ACKs (Nagle): ~40 ms a chunk otherwise.
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(net.keep_alive_timeout_in_seconds))
        .pool_max_idle_per_host(net.max_conns_per_host)
        .tcp_keepalive(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")));
    if net.enforce_http2 {
        b = b.http2_prior_knowledge();
    }
    b.build()
}
