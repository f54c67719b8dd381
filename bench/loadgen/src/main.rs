//! Benchmark load client.
//!
//! `loadgen run`: `-c N` workers, each on its own keep-alive HTTP/1.1
//! connection (all connected before the clock starts), send the same POST back
//! to back for `--warmup` + `--duration` seconds (or until `--requests` in
//! total). Per request it records the latency to the end of the body and the
//! time to the first body byte (TTFB); for streams, the longest silence
//! between two body frames after the first (over `--stall-ms` counts as a
//! stall; a slow start shows in TTFB instead) and whether
//! `--expect` (e.g. `[DONE]`) arrived. With `--pid`, it also reports that
//! process's CPU time and peak RSS over the measured window. It prints one
//! JSON object.
//!
//! For the soak test (bench/soak.sh): `--status` makes a given error status
//! the expected answer (a fault the proxy must pass on), `--disconnect-after`
//! drops the connection mid-stream (a client going away), and `--progress`
//! prints running totals to stderr.
//!
//! `loadgen report FILE`: renders a file of such JSON lines as markdown tables,
//! with the median over the rounds (`--round`) of each scenario and target.

mod report;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::Barrier;
use tokio::time::Instant;

#[derive(Parser)]
#[command(about = "Benchmark load client and results table")]
enum Cmd {
    /// Run one scenario against one target and print a JSON object.
    Run(Box<RunArgs>),
    /// Render a file of JSON lines (from `run`, plus idle-RSS lines) as markdown tables.
    Report {
        file: PathBuf,
        /// What the target `baseline` is (e.g. the old build's file name), shown next to it.
        #[arg(long)]
        baseline_label: Option<String>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Target, `http://127.0.0.1:PORT/path`.
    #[arg(long)]
    url: String,
    /// Request body (JSON).
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// Request body from a file.
    #[arg(long)]
    body_file: Option<PathBuf>,
    /// Extra request header, `name: value` (repeatable).
    #[arg(long = "header")]
    headers: Vec<String>,
    /// Connections, each with one request in flight.
    #[arg(short, long, default_value_t = 1)]
    concurrency: usize,
    /// Seconds of measurement; no request starts after them.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds before the measurement, whose requests are not recorded.
    #[arg(long, default_value_t = 0.0)]
    warmup: f64,
    /// Stop after this many requests in total (warmup included).
    #[arg(long)]
    requests: Option<u64>,
    /// The body must contain this (e.g. `[DONE]`), else the request failed as incomplete.
    #[arg(long)]
    expect: Option<String>,
    /// A silence between two body frames longer than this marks the request stalled.
    #[arg(long, default_value_t = 1000)]
    stall_ms: u64,
    /// Whole-request timeout in seconds.
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
    /// The expected response status (e.g. 502 for an unreachable upstream); default any 2xx.
    #[arg(long)]
    status: Option<u16>,
    /// Drop the connection after this many body frames: a client that goes away mid-stream.
    /// Such a request counts as ok.
    #[arg(long)]
    disconnect_after: Option<u32>,
    /// Print `progress ok=N failed=N` to stderr every this many seconds.
    #[arg(long)]
    progress: Option<f64>,
    /// Process to account CPU time and peak RSS to (repeatable: summed).
    #[arg(long = "pid")]
    pids: Vec<u32>,
    /// Clock ticks per second of /proc/PID/stat (`getconf CLK_TCK`).
    #[arg(long, default_value_t = 100)]
    clk_tck: u64,
    /// Labels copied into the output.
    #[arg(long, default_value = "")]
    scenario: String,
    #[arg(long, default_value = "")]
    target: String,
    #[arg(long, default_value = "")]
    note: String,
    /// Which repetition of this scenario and target this is (the report takes the median over them).
    #[arg(long, default_value_t = 1)]
    round: u32,
}

struct Plan {
    uri: Uri,
    host: HeaderValue,
    addr: String,
    body: Bytes,
    headers: Vec<(HeaderName, HeaderValue)>,
    expect: Option<Vec<u8>>,
    stall: Duration,
    timeout: Duration,
    measure_from: Instant,
    end: Instant,
    requests: Option<u64>,
    status: Option<u16>,
    disconnect_after: Option<u32>,
    done_ok: AtomicU64,
    done_failed: AtomicU64,
}

#[derive(Default)]
struct Stats {
    latency_us: Vec<u32>,
    ttfb_us: Vec<u32>,
    errors: BTreeMap<String, u64>,
    first_error: Option<String>,
    stalled: u64,
    max_gap: Duration,
    bytes: u64,
    last_done: Option<Instant>,
}

struct Sample {
    latency: Duration,
    ttfb: Duration,
    max_gap: Duration,
    bytes: u64,
    disconnected: bool,
}

fn main() {
    // The error alone, without the backtrace RUST_BACKTRACE would add: the script shows it inline.
    if let Err(e) = cli() {
        eprintln!("loadgen: {e:#}");
        std::process::exit(1);
    }
}

fn cli() -> anyhow::Result<()> {
    match Cmd::parse() {
        Cmd::Report { file, baseline_label } => {
            report::print(&std::fs::read_to_string(&file).context("reading results")?, baseline_label.as_deref())
        }
        Cmd::Run(args) => {
            // One thread: the load generator shares its core with the upstream.
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let out = rt.block_on(run(*args))?;
            println!("{out}");
            let lat = &out["latency_us"];
            eprintln!(
                "{:<30} {:<10} r{} ok {} failed {} stalled {} | {:.0} req/s | p50 {} µs p99 {} µs | ttfb p50 {} µs",
                out["scenario"].as_str().unwrap_or(""),
                out["target"].as_str().unwrap_or(""),
                out["round"],
                out["ok"],
                out["failed"],
                out["stalled"],
                out["rps"].as_f64().unwrap_or(0.0),
                lat["p50"],
                lat["p99"],
                out["ttfb_us"]["p50"],
            );
            if out["ok"] == 0 {
                bail!("no request succeeded: {}", out["first_error"]);
            }
            Ok(())
        }
    }
}

async fn run(args: RunArgs) -> anyhow::Result<Value> {
    let uri: Uri = args.url.parse().context("--url")?;
    if uri.scheme_str() != Some("http") {
        bail!("--url must be http://");
    }
    let authority = uri.authority().context("--url needs host:port")?.clone();
    // A load generator aimed elsewhere by mistake is a flood: loopback only.
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    let loopback = host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback && authority.host() != "localhost" {
        bail!("--url must point at a loopback address (127.0.0.0/8, [::1], localhost)");
    }
    let body = match (&args.body, &args.body_file) {
        (Some(b), _) => Bytes::from(b.clone()),
        (None, Some(f)) => Bytes::from(std::fs::read(f).with_context(|| format!("reading {}", f.display()))?),
        (None, None) => bail!("--body or --body-file is required"),
    };
    let mut headers = Vec::new();
    for h in &args.headers {
        let (name, value) = h.split_once(':').with_context(|| format!("header {h:?}: want `name: value`"))?;
        headers.push((HeaderName::from_bytes(name.trim().as_bytes())?, HeaderValue::from_str(value.trim())?));
    }
    let mut plan = Plan {
        uri: uri.path_and_query().map_or("/", |p| p.as_str()).parse()?,
        host: HeaderValue::from_str(authority.as_str())?,
        addr: format!("{}:{}", authority.host(), authority.port_u16().unwrap_or(80)),
        body,
        headers,
        expect: args.expect.as_ref().map(|e| e.as_bytes().to_vec()),
        stall: Duration::from_millis(args.stall_ms),
        timeout: Duration::from_secs_f64(args.timeout),
        measure_from: Instant::now(),
        end: Instant::now(),
        requests: args.requests,
        status: args.status,
        disconnect_after: args.disconnect_after,
        done_ok: AtomicU64::new(0),
        done_failed: AtomicU64::new(0),
    };

    let overflows_before = listen_overflows();
    // Connect every worker first, then start the clock for all at once.
    let barrier = Arc::new(Barrier::new(args.concurrency + 1));
    let issued = Arc::new(AtomicU64::new(0));
    let (plan_tx, plan_rx) = tokio::sync::watch::channel(None::<Arc<Plan>>);
    let mut workers = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        let (barrier, issued, mut plan_rx) = (barrier.clone(), issued.clone(), plan_rx.clone());
        let addr = plan.addr.clone();
        workers.push(tokio::spawn(async move {
            let conn = connect(&addr).await.ok();
            barrier.wait().await;
            let plan = plan_rx.wait_for(Option::is_some).await.ok().and_then(|p| p.clone());
            match plan {
                Some(plan) => worker(plan, conn, issued).await,
                None => Stats::default(),
            }
        }));
    }
    barrier.wait().await;
    let start = Instant::now();
    plan.measure_from = start + Duration::from_secs_f64(args.warmup);
    plan.end = plan.measure_from + Duration::from_secs_f64(args.duration);
    let measure_from = plan.measure_from;
    let plan = Arc::new(plan);
    plan_tx.send(Some(plan.clone()))?;
    if let Some(every) = args.progress.filter(|s| *s > 0.0) {
        let plan = plan.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(every));
            tick.tick().await;
            loop {
                tick.tick().await;
                let (ok, failed) = (plan.done_ok.load(Ordering::Relaxed), plan.done_failed.load(Ordering::Relaxed));
                eprintln!("progress ok={ok} failed={failed}");
            }
        });
    }

    let pids = args.pids.clone();
    let cpu_before = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from).await;
        for pid in &pids {
            // Resets VmHWM to the current RSS, so the peak is this window's (root or same user).
            let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
        }
        cpu_ticks(&pids)
    });

    let mut all = Stats::default();
    for w in workers {
        let s = w.await?;
        all.latency_us.extend(s.latency_us);
        all.ttfb_us.extend(s.ttfb_us);
        for (k, v) in s.errors {
            *all.errors.entry(k).or_default() += v;
        }
        all.first_error = all.first_error.or(s.first_error);
        all.stalled += s.stalled;
        all.max_gap = all.max_gap.max(s.max_gap);
        all.bytes += s.bytes;
        all.last_done = all.last_done.max(s.last_done);
    }
    let window = all.last_done.unwrap_or_else(Instant::now).saturating_duration_since(measure_from).as_secs_f64();
    let ok = all.latency_us.len() as u64;
    let mut out = json!({
        "scenario": args.scenario,
        "target": args.target,
        "round": args.round,
        "note": args.note,
        "concurrency": args.concurrency,
        "body_bytes": plan_rx.borrow().as_ref().map_or(0, |p| p.body.len()),
        "ok": ok,
        "failed": all.errors.values().sum::<u64>(),
        "errors": all.errors,
        "first_error": all.first_error,
        "stalled": all.stalled,
        "max_gap_ms": all.max_gap.as_secs_f64() * 1000.0,
        "seconds": window,
        "rps": if window > 0.0 { ok as f64 / window } else { 0.0 },
        "mib_per_s": if window > 0.0 { all.bytes as f64 / window / 1048576.0 } else { 0.0 },
        "listen_overflows": listen_overflows().saturating_sub(overflows_before),
        "latency_us": percentiles(&mut all.latency_us),
        "ttfb_us": percentiles(&mut all.ttfb_us),
    });
    if !args.pids.is_empty() {
        let before = cpu_before.await?;
        let cpu_s = cpu_ticks(&args.pids).saturating_sub(before) as f64 / args.clk_tck as f64;
        out["proxy_cpu_pct"] = json!(if window > 0.0 { 100.0 * cpu_s / window } else { 0.0 });
        out["proxy_cpu_us_per_req"] = json!(if ok > 0 { cpu_s * 1e6 / ok as f64 } else { 0.0 });
        out["proxy_peak_rss_kb"] = json!(args.pids.iter().map(|p| status_kb(*p, "VmHWM:")).sum::<u64>());
    }
    Ok(out)
}

async fn connect(addr: &str) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn worker(plan: Arc<Plan>, mut conn: Option<SendRequest<Full<Bytes>>>, issued: Arc<AtomicU64>) -> Stats {
    let mut stats = Stats::default();
    loop {
        if Instant::now() >= plan.end || plan.requests.is_some_and(|n| issued.fetch_add(1, Ordering::Relaxed) >= n) {
            return stats;
        }
        // A connection the server closed (keep-alive limit) is replaced silently.
        let ready = match conn.as_mut() {
            Some(c) => c.ready().await.is_ok(),
            None => false,
        };
        if !ready {
            match connect(&plan.addr).await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    stats.error("connect", &e.to_string());
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(sender) = conn.as_mut() else { continue };
        let started = Instant::now();
        let result = tokio::time::timeout(plan.timeout, request(&plan, sender, started)).await;
        let measured = started >= plan.measure_from;
        match &result {
            Ok(Ok(_)) => plan.done_ok.fetch_add(1, Ordering::Relaxed),
            _ => plan.done_failed.fetch_add(1, Ordering::Relaxed),
        };
        if matches!(&result, Ok(Ok(s)) if s.disconnected) {
            conn = None;
        }
        match result {
            Ok(Ok(s)) if measured => {
                stats.latency_us.push(micros(s.latency));
                stats.ttfb_us.push(micros(s.ttfb));
                stats.bytes += s.bytes;
                stats.max_gap = stats.max_gap.max(s.max_gap);
                stats.stalled += u64::from(s.max_gap > plan.stall);
                stats.last_done = Some(Instant::now());
            }
            Ok(Ok(_)) => {}
            Ok(Err((kind, msg))) => {
                if measured {
                    stats.error(&kind, &msg);
                }
                conn = None;
            }
            Err(_) => {
                if measured {
                    stats.error("timeout", "request timed out");
                }
                conn = None;
            }
        }
    }
}

type Failure = (String, String);

async fn request(plan: &Plan, sender: &mut SendRequest<Full<Bytes>>, started: Instant) -> Result<Sample, Failure> {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(plan.uri.clone())
        .header(HOST, plan.host.clone())
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(plan.body.clone()))
        .map_err(|e| ("build".to_string(), e.to_string()))?;
    for (name, value) in &plan.headers {
        req.headers_mut().insert(name.clone(), value.clone());
    }
    let resp = sender.send_request(req).await.map_err(|e| ("io".to_string(), e.to_string()))?;
    let status = resp.status();
    let mut body = resp.into_body();
    let (mut ttfb, mut last, mut max_gap, mut bytes) = (None, None, Duration::ZERO, 0u64);
    let mut found = plan.expect.is_none();
    let mut window = Vec::new();
    let mut frames = 0u32;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ("io".to_string(), e.to_string()))?;
        let Some(data) = frame.data_ref().filter(|d| !d.is_empty()) else { continue };
        let now = Instant::now();
        ttfb.get_or_insert(now - started);
        if let Some(last) = last {
            max_gap = max_gap.max(now - last);
        }
        last = Some(now);
        bytes += data.len() as u64;
        frames += 1;
        if plan.disconnect_after.is_some_and(|n| frames >= n) {
            // Going away: the body and then the connection are dropped unread.
            let latency = started.elapsed();
            return Ok(Sample { latency, ttfb: ttfb.unwrap_or(latency), max_gap, bytes, disconnected: true });
        }
        if let (Some(marker), false) = (&plan.expect, found) {
            // Keep just enough of the previous frame to find a marker split across frames.
            window.extend_from_slice(data);
            found = window.windows(marker.len()).any(|w| w == marker.as_slice());
            window.drain(..window.len().saturating_sub(marker.len()));
        }
    }
    let status_ok = match plan.status {
        Some(want) => status.as_u16() == want,
        None => status.is_success(),
    };
    if !status_ok {
        return Err((format!("status_{}", status.as_u16()), format!("HTTP {status}")));
    }
    if !found {
        return Err(("incomplete".to_string(), "body ended without the expected marker".to_string()));
    }
    let latency = started.elapsed();
    Ok(Sample { latency, ttfb: ttfb.unwrap_or(latency), max_gap, bytes, disconnected: false })
}

impl Stats {
    fn error(&mut self, kind: &str, msg: &str) {
        *self.errors.entry(kind.to_string()).or_default() += 1;
        self.first_error.get_or_insert_with(|| format!("{kind}: {msg}"));
    }
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

fn percentiles(v: &mut [u32]) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    v.sort_unstable();
    let at = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    let mean = v.iter().map(|&x| u64::from(x)).sum::<u64>() / v.len() as u64;
    json!({"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "p999": at(0.999), "max": at(1.0), "mean": mean})
}

/// utime + stime of the processes, in clock ticks.
fn cpu_ticks(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = stat.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum()
}

/// A `/proc/PID/status` field in kB (VmRSS:, VmHWM:), 0 if unreadable.
fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix(field)?.trim().strip_suffix("kB")?.trim().parse().ok()))
        .unwrap_or(0)
}

/// The machine's count of connections dropped because a listen queue was full
/// (`TcpExt: ListenOverflows`): a client then sees a delay of a second or more.
fn listen_overflows() -> u64 {
    let netstat = std::fs::read_to_string("/proc/net/netstat").unwrap_or_default();
    let mut tcp_ext = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let (Some(names), Some(values)) = (tcp_ext.next(), tcp_ext.next()) else { return 0 };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find_map(|(n, v)| (n == "ListenOverflows").then(|| v.parse().ok()).flatten())
        .unwrap_or(0)
}
