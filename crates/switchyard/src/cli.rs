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
    #[arg(long, env = "SWITCHYARD_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `switchyard_core=debug`.
    #[arg(long, env = "SWITCHYARD_LOG", default_value = "info")]
    pub log: String,
}
