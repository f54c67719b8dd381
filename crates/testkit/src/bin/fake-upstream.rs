//! Runs the fake upstream on loopback for the Python end-to-end tests.
//! Prints one JSON line with both base URLs, then serves until killed.

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut opts = switchyard_testkit::FakeOptions::default();
    let mut args = std::env::args().skip(1);
    let mut port = 0u16;
    let mut workspace_port = 0u16;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = args.next().unwrap_or_default().parse()?,
            "--workspace-port" => workspace_port = args.next().unwrap_or_default().parse()?,
            "--expect-bearer" => opts.expect_bearer = args.next(),
            // ID:SECRET of a service principal the OAuth endpoint (/oidc/v1/token) knows.
            "--oauth-client" => {
                let pair = args.next().unwrap_or_default();
                let (id, secret) = pair.split_once(':').ok_or_else(|| anyhow::anyhow!("--oauth-client takes ID:SECRET"))?;
                let ttl = opts.oauth.as_ref().map_or(std::time::Duration::from_secs(3600), |o| o.token_ttl);
                opts.oauth = Some(switchyard_testkit::oauth::FakeOAuth {
                    client_id: id.into(),
                    client_secret: secret.into(),
                    token_ttl: ttl,
                });
            }
            other => anyhow::bail!(
                "unknown argument {other}; use --port N --workspace-port N --expect-bearer TOKEN --oauth-client ID:SECRET"
            ),
        }
    }
    let fake = switchyard_testkit::FakeUpstream::start_on(
        opts,
        SocketAddr::from(([127, 0, 0, 1], port)),
        SocketAddr::from(([127, 0, 0, 1], workspace_port)),
    )
    .await?;
    println!("{}", serde_json::json!({"gateway": fake.url(""), "workspace": fake.workspace_url("")}));
    tokio::signal::ctrl_c().await?;
    Ok(())
}
