//! The `switchyard` command line.

mod cli;
mod config_cmd;
mod keys_cmd;
mod request_log;
mod serve_cmd;
mod telemetry;

use clap::Parser;

/// Chosen by measurement (bench/RESULTS.md): fewer allocator cycles per request
/// than glibc malloc on the request path.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Serve(args) => serve_cmd::run(args),
        cli::Command::Config { command: cli::ConfigCommand::Check { file } } => config_cmd::check(&file),
        cli::Command::Keys(args) => keys_cmd::run(args),
    }
}
