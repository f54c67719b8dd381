//! The real binary, started on port 0 in front of the test fake upstream,
//! its stderr kept for the assertions.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use switchyard_testkit::FakeUpstream;

/// One provider on the fake (no retries) and a route whose first target
/// always fails, so a request through it tries two candidates.
pub const CONFIG: &str = r#"{
  "providers": {
    "oa": {"network_config": {"base_url": "{gw}/mlflow", "max_retries": 0},
           "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}}
  },
  "routes": {
    "smart": {"targets": [{"model": "oa/fault-503-always"}], "fallbacks": ["oa/gpt-4o"]}
  }
}"#;

pub struct Gateway {
    child: Child,
    pub base: String,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Gateway {
    /// `switchyard serve` with [`CONFIG`] on `fake`, `args` and `env` added.
    // The child moves into the `Gateway`, whose drop waits for it.
    #[allow(clippy::zombie_processes)]
    pub fn start(fake: &FakeUpstream, args: &[&str], env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        std::fs::write(&config, CONFIG.replace("{gw}", &fake.url(""))).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
        cmd.arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--port", "0", "--shutdown-grace-secs", "1"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // The variables a developer's shell may set must not change what is tested.
        for var in [
            "SWITCHYARD_LOG",
            "SWITCHYARD_LOG_FORMAT",
            "SWITCHYARD_OTLP_ENDPOINT",
            "SWITCHYARD_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "OTEL_SERVICE_NAME",
            "OTEL_RESOURCE_ATTRIBUTES",
            "NO_COLOR",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().expect("the binary starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let kept = stderr.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                kept.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                panic!("exited before listening; stderr:\n{}", stderr.lock().unwrap());
            }
            if let Some(addr) = line.trim().strip_prefix("switchyard listening on ") {
                let base = addr.to_string();
                // Keep reading stdout so the process never blocks on a full pipe.
                std::thread::spawn(move || for _ in stdout.lines() {});
                return Self { child, base, stderr, reader: Some(reader), _dir: dir };
            }
        }
    }

    /// SIGTERM, then waits for the exit: queued spans and log lines are out.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(sent.success());
        let status = self.child.wait().expect("the binary exits");
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        status
    }

    /// The `--data-dir` the gateway was started with.
    pub fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test client (rustls needs its crypto provider first).
pub fn http() -> reqwest::Client {
    switchyard_core::upstream::client::install_crypto_provider();
    reqwest::Client::new()
}
