use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Switchyard: an LLM gateway between OpenAI/Anthropic clients and upstream LLM APIs.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve(ServeArgs),
    /// Work with configuration files.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Manage virtual keys of a running gateway (through its admin API).
    Keys(KeysArgs),
}

#[derive(Debug, Args)]
pub struct KeysArgs {
    /// The gateway's address.
    #[arg(long, env = "SWITCHYARD_URL", default_value = "http://127.0.0.1:8080", global = true)]
    pub url: String,
    /// The admin token, when the gateway has one (prefer the variable: a value on the command line shows in `ps`).
    #[arg(long, env = "SWITCHYARD_ADMIN_TOKEN", hide_env_values = true, global = true)]
    pub admin_token: Option<String>,
    /// Print the API's JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; its secret is printed this once.
    Create {
        /// Who or what uses the key.
        #[arg(long)]
        name: String,
        /// The team the key belongs to (must exist).
        #[arg(long)]
        team: Option<String>,
        /// A model the key may call (`<provider>/<model>`, a route, or a glob); repeat for more. None: all.
        #[arg(long = "model")]
        models: Vec<String>,
        /// Requests per minute.
        #[arg(long)]
        rpm: Option<u64>,
        /// Tokens (input + output) per minute.
        #[arg(long)]
        tpm: Option<u64>,
        /// Budget in USD per --budget-period.
        #[arg(long, conflicts_with = "budget_tokens")]
        budget_usd: Option<f64>,
        /// Budget in tokens per --budget-period.
        #[arg(long)]
        budget_tokens: Option<u64>,
        /// day, week, month or total.
        #[arg(long, default_value = "month")]
        budget_period: String,
        /// When the key stops working (RFC 3339, e.g. 2027-01-31T00:00:00Z).
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key at once, for good.
    Revoke {
        /// The key's public id (the 12 characters after `sk-sy-`).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a config file: prints every error and warning; exits 1 if there is any error.
    Check {
        /// The JSON config file (Bifrost's config.json field names).
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// JSON config file. Providers it names are file-managed: the file's version wins at every start.
    #[arg(long, env = "SWITCHYARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "SWITCHYARD_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one; the address is printed on stdout).
    #[arg(long, env = "SWITCHYARD_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Directory for the embedded database.
    #[arg(long, env = "SWITCHYARD_DATA_DIR", default_value = "./switchyard-data")]
    pub data_dir: PathBuf,
    /// Largest accepted request body in MiB (overrides client.max_request_body_size_mb; default 32).
    #[arg(long, env = "SWITCHYARD_MAX_BODY_SIZE_MB")]
    pub max_body_size_mb: Option<u64>,
    /// On SIGTERM/Ctrl-C, how long requests and streams in flight may take to finish.
    #[arg(long, env = "SWITCHYARD_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,
    /// Admin token for the UI and /api; required when --host is not a loopback address.
    /// Prefer the SWITCHYARD_ADMIN_TOKEN variable: a command-line value shows in `ps`.
    #[arg(long, env = "SWITCHYARD_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Host names (besides localhost/127.0.0.1/[::1]) clients may address the
    /// server by; with an open admin every other Host is refused (DNS rebinding).
    #[arg(long = "allowed-host", env = "SWITCHYARD_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Environment variables the management API may reference as `env.NAME`
    /// (exact names or `PREFIX_*`); the config file is not limited.
    #[arg(long = "api-env-allow", env = "SWITCHYARD_API_ENV_ALLOW", value_delimiter = ',')]
    pub api_env_allow: Vec<String>,
    /// Seconds a client may take to send a request head (on HTTP/1.1 also the
    /// longest wait for the next request on a kept-alive connection).
    #[arg(long, env = "SWITCHYARD_HEADER_READ_TIMEOUT_SECS", default_value_t = 30)]
    pub header_read_timeout_secs: u64,
    /// Seconds a client may take to send a whole request body.
    #[arg(long, env = "SWITCHYARD_BODY_READ_TIMEOUT_SECS", default_value_t = 60)]
    pub body_read_timeout_secs: u64,
    /// Seconds without a byte either way after which a connection is closed
    /// (requests in flight finish first).
    #[arg(long, env = "SWITCHYARD_IDLE_TIMEOUT_SECS", default_value_t = 120)]
    pub idle_timeout_secs: u64,
    /// Days the request log keeps a request's row (`<data-dir>/logs.db`);
    /// overrides the config file's `logging.retention_days` (default 30).
    #[arg(long, env = "SWITCHYARD_LOG_RETENTION_DAYS")]
    pub log_retention_days: Option<u64>,
    /// Store request and response payloads in the request log for every
    /// request (keys and teams may say otherwise); overrides `logging.payloads`.
    #[arg(long, env = "SWITCHYARD_LOG_PAYLOADS", num_args = 0..=1, default_missing_value = "true")]
    pub log_payloads: Option<bool>,
    /// Label `switchyard_key_requests_total` by virtual key id at `/metrics`
    /// (one series per key: off by default).
    #[arg(long, env = "SWITCHYARD_METRICS_KEY_LABELS")]
    pub metrics_key_labels: bool,
    /// Write no request log at all (no rows, no usage, no /api/logs).
    #[arg(long, env = "SWITCHYARD_NO_REQUEST_LOG")]
    pub no_request_log: bool,
    /// Client connections served at once; more wait in the listen backlog.
    #[arg(long, env = "SWITCHYARD_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `switchyard_core=debug`.
    #[arg(long, env = "SWITCHYARD_LOG", default_value = "info")]
    pub log: String,
    /// Log format and OTLP trace export.
    #[command(flatten)]
    pub telemetry: crate::telemetry::TelemetryArgs,
}
