//! `fuzz-run`: a bounded, stable-toolchain fuzzer over the targets of
//! `switchyard-fuzz-targets`. For each target it runs every seed of
//! `fuzz/corpus/<target>/`, then random mutants of them for a time budget.
//! On a panic it writes the input to `fuzz/artifacts/<target>/crash-<hash>`
//! and exits 1 naming the target and the panic message.
//!
//! ```text
//! fuzz-run [--seconds N] [--target NAME]... [--seed S] [--jobs J] [--corpus DIR] [--artifacts DIR]
//! ```
//!
//! Targets run `--jobs` at a time (default: the number of cores). Each target
//! draws from its own generator, seeded from `--seed` and its name, so
//! `--target NAME --seed S` replays that target's run alone.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use switchyard_fuzz_targets::{corpus, mutate, target, Target, TARGETS};

struct Options {
    seconds: f64,
    targets: Vec<Target>,
    seed: u64,
    jobs: usize,
    corpus: PathBuf,
    artifacts: PathBuf,
}

const USAGE: &str =
    "usage: fuzz-run [--seconds N] [--target NAME]... [--seed S] [--jobs J] [--corpus DIR] [--artifacts DIR] [--list]";

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        seconds: 10.0,
        targets: Vec::new(),
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
        jobs: std::thread::available_parallelism().map_or(1, usize::from),
        corpus: corpus::fuzz_dir().join("corpus"),
        artifacts: corpus::fuzz_dir().join("artifacts"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--seconds" => opts.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--seed" => opts.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--jobs" => opts.jobs = value()?.parse::<usize>().map_err(|e| format!("--jobs: {e}"))?.max(1),
            "--corpus" => opts.corpus = value()?.into(),
            "--artifacts" => opts.artifacts = value()?.into(),
            "--target" => {
                let name = value()?;
                let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
                let t = target(&name).ok_or_else(|| format!("unknown target {name}; targets: {}", names.join(", ")))?;
                opts.targets.push(t);
            }
            "--list" => {
                for t in TARGETS {
                    println!("{}", t.name);
                }
                std::process::exit(0);
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            _ => return Err(format!("unknown argument {arg}\n{USAGE}")),
        }
    }
    if opts.targets.is_empty() {
        opts.targets = TARGETS.to_vec();
    }
    Ok(opts)
}

/// A panic: the input and the message.
struct Crash {
    input: Vec<u8>,
    message: String,
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

thread_local! {
    /// Where the last panic on this thread happened (set by the panic hook).
    static LOCATION: RefCell<String> = const { RefCell::new(String::new()) };
}

fn run_one(t: Target, input: &[u8]) -> Result<(), Crash> {
    panic::catch_unwind(AssertUnwindSafe(|| (t.run)(input))).map_err(|p| {
        let at = LOCATION.with(|l| l.borrow().clone());
        Crash { input: input.to_vec(), message: format!("{} (at {at})", panic_message(p.as_ref())) }
    })
}

struct Stats {
    seeds: usize,
    execs: u64,
}

fn fuzz_target(t: Target, opts: &Options) -> Result<Stats, Crash> {
    let rng = &mut SmallRng::seed_from_u64(opts.seed ^ corpus::hash(t.name.as_bytes()));
    let dir = opts.corpus.join(t.name);
    let seeds = corpus::seeds(&dir).unwrap_or_default();
    let mut pool: Vec<Vec<u8>> = seeds.into_iter().map(|(_, b)| b).collect();
    let n_seeds = pool.len();
    for seed in &pool {
        run_one(t, seed)?;
    }
    if pool.is_empty() {
        pool.push(Vec::new());
    }
    let budget = Duration::from_secs_f64(opts.seconds.max(0.0));
    let start = Instant::now();
    let mut execs = 0u64;
    while start.elapsed() < budget {
        let input = mutate::mutant(rng, &pool);
        run_one(t, &input)?;
        execs += 1;
        // A random walk away from the seeds: keep some mutants as parents.
        if rng.random_ratio(1, 8) {
            if pool.len() < n_seeds + 256 {
                pool.push(input);
            } else {
                let i = n_seeds + rng.random_range(0..256);
                pool[i] = input;
            }
        }
    }
    Ok(Stats { seeds: n_seeds, execs })
}

fn save(crash: &Crash, t: Target, opts: &Options) -> Option<PathBuf> {
    let dir = opts.artifacts.join(t.name);
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("crash-{:016x}", corpus::hash(&crash.input)));
    std::fs::write(&path, &crash.input).ok()?;
    Some(path)
}

fn report(t: Target, opts: &Options, result: Result<Stats, Crash>, started: Instant, failed: &AtomicUsize) {
    match result {
        Ok(s) => println!(
            "  {:<20} ok: {} seeds, {} mutants in {:.1}s",
            t.name,
            s.seeds,
            s.execs,
            started.elapsed().as_secs_f64()
        ),
        Err(crash) => {
            failed.fetch_add(1, Ordering::Relaxed);
            let saved = save(&crash, t, opts)
                .map_or_else(|| "(could not save the input)".to_string(), |p| p.display().to_string());
            println!("  {:<20} CRASH: {}", t.name, crash.message);
            println!("    input ({} bytes) saved to {saved}", crash.input.len());
            println!(
                "    replay: copy it into fuzz/corpus/{}/ and run: fuzz-run --target {} --seconds 0",
                t.name, t.name
            );
        }
    }
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // Panics are caught and reported once, with the input: the hook only notes where.
    panic::set_hook(Box::new(|info| {
        let at = info.location().map(ToString::to_string).unwrap_or_default();
        LOCATION.with(|l| *l.borrow_mut() = at);
    }));
    println!(
        "fuzz-run: {} target(s), {}s each, {} at a time, --seed {} (corpus {})",
        opts.targets.len(),
        opts.seconds,
        opts.jobs,
        opts.seed,
        opts.corpus.display()
    );
    let next = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let out = Mutex::new(());
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.min(opts.targets.len()) {
            scope.spawn(|| {
                while let Some(t) = opts.targets.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let started = Instant::now();
                    let result = fuzz_target(*t, &opts);
                    let _guard = out.lock();
                    report(*t, &opts, result, started, &failed);
                }
            });
        }
    });
    let failed = failed.into_inner();
    let passed = opts.targets.len() - failed;
    println!("fuzz-run: {passed} passed, {failed} failed");
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
