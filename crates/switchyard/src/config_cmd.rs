//! `switchyard config check FILE`.

use std::path::Path;
use std::process::ExitCode;

use switchyard_core::config::{load_file, ProcessEnv};

pub fn check(file: &Path) -> ExitCode {
    match load_file(file, &ProcessEnv) {
        Ok((config, warnings)) => {
            for w in &warnings {
                println!("{w}");
            }
            let names: Vec<&str> = config.providers.keys().map(String::as_str).collect();
            println!(
                "ok: {} is valid ({} provider{}{}{})",
                file.display(),
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                if names.is_empty() { "" } else { ": " },
                names.join(", ")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            for d in &e.diagnostics {
                eprintln!("{d}");
            }
            let n = e.errors().count();
            eprintln!("{}: {n} error{} found", file.display(), if n == 1 { "" } else { "s" });
            ExitCode::FAILURE
        }
    }
}
