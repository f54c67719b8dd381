#!/usr/bin/env bash
# Switchyard benchmark: every scenario against (a) the fake upstream directly,
# (b) nginx -> upstream, (c) Switchyard -> upstream and, with BASELINE_BIN,
# (d) another Switchyard build -> upstream, in one run, printed as markdown
# tables with absolute figures (medians over the rounds) and ratios.
#
#   bench/run.sh             full run, 4 rounds (~15 min after the build; ~20 with BASELINE_BIN)
#   bench/run.sh --quick     every scenario briefly, 1 round; exits non-zero only
#                            if a scenario failed to run (no request succeeded, a
#                            process died), never on performance figures
#   bench/run.sh --only RE   only the scenarios whose name matches the regex
#   bench/run.sh --rounds N  N rounds (else env BENCH_ROUNDS, else 4; --quick: 1),
#                            interleaved: round 1 of every target, then round 2 (in reverse order), ...,
#                            so a slow spell of a shared machine hits all targets
#
# The proxy under test runs on CPU 0; the load generator and the upstream on
# CPU 1. Everything is on 127.0.0.1 and is stopped on exit. Needs root (or the
# tools already installed) for apt-get. BENCH_OUT=DIR keeps the work files there.
# SWITCHYARD_BIN=PATH measures another build of switchyard (and skips building it).
# BASELINE_BIN=PATH also measures a second build, the target "baseline", right
# after switchyard in every round; the report gives switchyard vs baseline, each
# as a ratio to nginx. BASELINE_LABEL names it (default: the file's name).
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0 ONLY= ROUNDS=${BENCH_ROUNDS:-}
while (($#)); do
    case $1 in
        --quick) QUICK=1 ;;
        --only) ONLY=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
[[ -n $ROUNDS ]] || ROUNDS=$((QUICK ? 1 : 4))
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "--rounds / BENCH_ROUNDS: want a count from 1, got '$ROUNDS'" >&2; exit 2; }
for bin in ${SWITCHYARD_BIN:+"$SWITCHYARD_BIN"} ${BASELINE_BIN:+"$BASELINE_BIN"}; do
    [[ -x $bin ]] || { echo "$bin: not an executable" >&2; exit 2; }
done
BASELINE_LABEL=${BASELINE_LABEL:-$(basename "${BASELINE_BIN:-baseline}")}

if ((QUICK)); then
    DUR=2 WARM=0.5 SLOW_STREAMS=200 SLOW_MODEL=bench/slow-30-100
else
    DUR=10 WARM=2 SLOW_STREAMS=2000 SLOW_MODEL=bench/slow-100-100
fi

# --- tools -------------------------------------------------------------------
export PATH="$PATH:/usr/sbin:/sbin"
missing=()
command -v nginx >/dev/null || missing+=(nginx)
command -v taskset >/dev/null || missing+=(util-linux)
command -v getconf >/dev/null || missing+=(libc-bin)
command -v pgrep >/dev/null || missing+=(procps)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    echo "installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# With SWITCHYARD_BIN there is no switchyard to build.
build=(-p bench-fake-upstream -p bench-loadgen)
[[ -n ${SWITCHYARD_BIN:-} ]] || build=(-p switchyard "${build[@]}")
cargo build --release "${build[@]}"
BIN=${CARGO_TARGET_DIR:-target}/release

OUT=${BENCH_OUT:-$(mktemp -d /tmp/switchyard-bench.XXXXXX)}
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

# 2,000 streams through a proxy hold ~4,000 sockets in it, 2,000 in the client.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < 2 * SLOW_STREAMS + 512)); then
    echo "open-file limit $(ulimit -n) is too low for $SLOW_STREAMS streams" >&2
    exit 1
fi

if (($(nproc) >= 2)); then
    PROXY_CPU=(taskset -c 0) LOAD_CPU=(taskset -c 1)
else
    echo "fewer than 2 CPUs: running unpinned" >&2
    PROXY_CPU=() LOAD_CPU=()
fi

# --- processes ---------------------------------------------------------------
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits for "... listening on http://ADDR" in FILE and prints ADDR.
listening_addr() {
    local file=$1 pid=$2
    for _ in $(seq 200); do
        if grep -q 'listening on http://' "$file"; then
            sed -n 's|.*listening on http://\([^ /]*\).*|\1|p' "$file" | head -1
            return
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "process $pid did not start; its output:" >&2
    cat "$file" "$file.err" >&2 2>/dev/null || true
    return 1
}

free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
}

rss_kb() { awk -v f="$2" '$1 == f {print $2}' "/proc/$1/status"; }

# Per target: the address it listens on and the process its CPU time and RSS are read from.
declare -A BASE=() PROC=()

"${LOAD_CPU[@]}" "$BIN/bench-upstream" --listen 127.0.0.1:0 >"$OUT/upstream.out" 2>"$OUT/upstream.out.err" &
UP_PID=$!
PIDS+=("$UP_PID")
UPSTREAM=$(listening_addr "$OUT/upstream.out" "$UP_PID")

NGINX_PORT=$(free_port)
mkdir -p "$OUT/nginx"
cat >"$OUT/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile $(ulimit -n);
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_max_body_size 64m;
    client_body_temp_path $OUT/nginx/body;
    proxy_temp_path $OUT/nginx/proxy;
    upstream fake {
        server $UPSTREAM;
        keepalive 512;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        location / {
            proxy_pass http://fake;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 300s;
        }
    }
}
EOF
"${PROXY_CPU[@]}" nginx -e "$OUT/nginx/error.log" -p "$OUT/nginx" -c "$OUT/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
NGINX_WORKER=
for _ in $(seq 100); do
    NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -1 || true)
    [[ -n $NGINX_WORKER ]] && (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null && break
    sleep 0.05
done
[[ -n $NGINX_WORKER ]] || { echo "nginx did not start:" >&2; cat "$OUT/nginx/error.log" >&2; exit 1; }

cat >"$OUT/switchyard.json" <<EOF
{
  "providers": {
    "bench": {
      "network_config": { "base_url": "http://$UPSTREAM" },
      "custom_provider_config": { "base_provider_type": "openai", "is_key_less": true }
    }
  }
}
EOF
# start_switchyard TARGET BINARY DATA-DIR. Access log off (warn), as nginx's is: one log line per
# request is not what is measured here. Only flags that older builds have too (the baseline).
start_switchyard() {
    local target=$1 bin=$2 data=$3
    shift 3
    "${PROXY_CPU[@]}" "$bin" serve --config "$OUT/switchyard.json" --port 0 --data-dir "$data" \
        --log warn "$@" >"$OUT/$target.out" 2>"$OUT/$target.out.err" &
    PROC[$target]=$!
    PIDS+=("$!")
    BASE[$target]=$(listening_addr "$OUT/$target.out" "$!")
}
TARGETS=(direct nginx switchyard)
start_switchyard switchyard "${SWITCHYARD_BIN:-$BIN/switchyard}" "$OUT/data"
# The same build without its request log ("nolog"), for the request-log row (idle otherwise).
if "${SWITCHYARD_BIN:-$BIN/switchyard}" serve --help | grep -q -- --no-request-log; then
    start_switchyard nolog "${SWITCHYARD_BIN:-$BIN/switchyard}" "$OUT/data-nolog" --no-request-log
fi
# The baseline idles on the proxy's CPU too: the proxies are measured one at a time.
if [[ -n ${BASELINE_BIN:-} ]]; then
    start_switchyard baseline "$BASELINE_BIN" "$OUT/data-baseline"
    TARGETS+=(baseline)
fi

sleep 1
echo "{\"target\":\"switchyard\",\"idle_rss_kb\":$(rss_kb "${PROC[switchyard]}" VmRSS:)}" >>"$RESULTS"
if [[ -n ${BASELINE_BIN:-} ]]; then
    echo "{\"target\":\"baseline (${BASELINE_LABEL//[\"\\]/_})\",\"idle_rss_kb\":$(rss_kb "${PROC[baseline]}" VmRSS:)}" >>"$RESULTS"
fi
echo "{\"target\":\"nginx (master + worker)\",\"idle_rss_kb\":$(($(rss_kb "$NGINX_PID" VmRSS:) + $(rss_kb "$NGINX_WORKER" VmRSS:)))}" >>"$RESULTS"

# --- request bodies ----------------------------------------------------------
MSG='"messages":[{"role":"user","content":"Say hello."}]'
echo "{\"model\":\"bench/chat\",\"max_tokens\":64,$MSG}" >"$OUT/small.json"
printf '{"model":"bench/chat","max_tokens":64,"messages":[{"role":"user","content":"%s"}]}' \
    "$(printf 'lorem ipsum %.0s' $(seq 8500))" >"$OUT/large.json"
echo "{\"model\":\"bench/stream-50\",\"stream\":true,$MSG}" >"$OUT/stream.json"
echo "{\"model\":\"bench/chat\",\"max_tokens\":64,$MSG}" >"$OUT/anthropic-small.json"
echo "{\"model\":\"bench/stream-50\",\"max_tokens\":256,\"stream\":true,$MSG}" >"$OUT/anthropic.json"
echo "{\"model\":\"$SLOW_MODEL\",\"stream\":true,$MSG}" >"$OUT/slow.json"

# --- scenarios ---------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
FAILED=()
BASE+=([direct]=$UPSTREAM [nginx]=127.0.0.1:$NGINX_PORT)
PROC+=([direct]=$UP_PID [nginx]=$NGINX_WORKER)
ROUND=1

# measure SCENARIO TARGET PATH LOADGEN-ARGS...: round $ROUND of SCENARIO against TARGET.
measure() {
    local scenario=$1 target=$2 path=$3
    shift 3
    [[ -z $ONLY || $scenario =~ $ONLY ]] || return 0
    local at=$target
    local pid=()
    [[ $target != direct ]] && pid=(--pid "${PROC[$at]}")
    if ! "${LOAD_CPU[@]}" "$BIN/loadgen" run --scenario "$scenario" --target "$target" \
        --round "$ROUND" \
        --url "http://${BASE[$at]}$path" --clk-tck "$CLK_TCK" "${pid[@]}" "$@" >>"$RESULTS"; then
        FAILED+=("$scenario/$target")
    fi
    if ! kill -0 "${PROC[$at]}" 2>/dev/null; then
        echo "$target died during $scenario" >&2
        FAILED+=("$scenario/$target (process died)")
        exit 1
    fi
}

# rounds N SCENARIO FUNCTION ARGS...: FUNCTION SCENARIO TARGET ARGS... for round 1 of every
# target, then round 2 of every target, ...: a slow spell of the machine hits all targets alike.
rounds() {
    local n=$1 scenario=$2 fn=$3 target
    shift 3
    [[ -z $ONLY || $scenario =~ $ONLY ]] || return 0
    local order i
    for ((ROUND = 1; ROUND <= n; ROUND++)); do
        # Even rounds run the targets in reverse order, so that no target is always measured
        # right after the same other one: with a fixed order, swapping two builds' places
        # moved their stream ratio from 0.78 to 1.03.
        order=()
        for ((i = 0; i < ${#TARGETS[@]}; i++)); do
            if ((ROUND % 2)); then order+=("${TARGETS[i]}"); else order=("${TARGETS[i]}" "${order[@]}"); fi
        done
        for target in "${order[@]}"; do
            "$fn" "$scenario" "$target" "$@"
        done
    done
}

# chat SCENARIO TARGET LOADGEN-ARGS...: the same chat request, whatever the path.
chat() { measure "$1" "$2" /v1/chat/completions "${@:3}"; }

# every SCENARIO LOADGEN-ARGS...: the same request through every path, $ROUNDS rounds.
every() { rounds "$ROUNDS" "$1" chat "${@:2}"; }

# translated SCENARIO TARGET PLAIN ANTHROPIC: direct and nginx get the plain chat request whose
# loadgen arguments are in the array named PLAIN (the reference: no translation), the
# switchyards the Anthropic Messages request of the array named ANTHROPIC.
translated() {
    local -n plain_args=$3 anthropic_args=$4
    case $2 in
        direct | nginx) measure "$1" "$2" /v1/chat/completions "${plain_args[@]}" ;;
        *) measure "$1" "$2" /anthropic/v1/messages --note "Anthropic Messages in, OpenAI chat up" \
            --header 'anthropic-version: 2023-06-01' "${anthropic_args[@]}" ;;
    esac
}

# A virtual key with a request and a token limit, so that governance does all its work on every
# request (identify, model check, one acquire of both counters, settle); high enough never to refuse.
KEY=$(curl -sf -X POST "http://${BASE[switchyard]}/api/keys" -H 'content-type: application/json' \
    -d '{"name":"bench","rate_limit":{"requests_per_minute":1000000000,"tokens_per_minute":1000000000000}}' |
    sed -n 's/.*"key":"\(sk-sy-[a-z0-9-]*\)".*/\1/p')
[[ -n $KEY ]] || { echo "could not create the bench's virtual key (is curl installed?)" >&2; exit 1; }

# governed SCENARIO TARGET LOADGEN-ARGS...: the switchyard under test with the key; direct and
# nginx as in the scenario without it (their rounds keep the ratio honest); not the baseline,
# whose older build may have no keys.
governed() {
    case $2 in
        baseline) ;;
        switchyard) measure "$1" "$2" /v1/chat/completions --header "authorization: Bearer $KEY" "${@:3}" ;;
        *) measure "$1" "$2" /v1/chat/completions "${@:3}" ;;
    esac
}

# with_nolog N SCENARIO FUNCTION ARGS...: `rounds` over nginx, switchyard and the same build
# without its request log ("nolog"), interleaved in the same rounds: the on ÷ off ratio is
# switchyard's req/s over nolog's, measured side by side.
with_nolog() {
    [[ -n ${PROC[nolog]:-} ]] || return 0
    local saved=("${TARGETS[@]}")
    TARGETS=(nginx switchyard nolog)
    rounds "$@"
    TARGETS=("${saved[@]}")
}

timed=(--duration "$DUR" --warmup "$WARM")
every "chat c=1" --body-file "$OUT/small.json" -c 1 "${timed[@]}"
every "chat c=64" --body-file "$OUT/small.json" -c 64 "${timed[@]}"
every "chat 100KB body c=16" --body-file "$OUT/large.json" -c 16 "${timed[@]}"
every "stream 50 chunks c=64" --body-file "$OUT/stream.json" -c 64 --expect '[DONE]' "${timed[@]}"
rounds "$ROUNDS" "chat c=64, governance on" governed --body-file "$OUT/small.json" -c 64 "${timed[@]}"
rounds "$ROUNDS" "stream 50 chunks c=64, governance on" governed --body-file "$OUT/stream.json" -c 64 \
    --expect '[DONE]' "${timed[@]}"
with_nolog "$ROUNDS" "chat c=64, request log on vs off" chat --body-file "$OUT/small.json" -c 64 "${timed[@]}"

plain=(--note "plain chat (reference: no translation)" --body-file "$OUT/small.json" -c 1 "${timed[@]}")
anthropic=(--body-file "$OUT/anthropic-small.json" -c 1 --expect '"end_turn"' "${timed[@]}")
rounds "$ROUNDS" "anthropic→openai c=1" translated plain anthropic

plain=(--note "plain chat stream (reference: no translation)" --body-file "$OUT/stream.json" -c 64 --expect '[DONE]'
    "${timed[@]}")
anthropic=(--body-file "$OUT/anthropic.json" -c 64 --expect 'message_stop' "${timed[@]}")
rounds "$ROUNDS" "anthropic→openai stream c=64" translated plain anthropic

# One round whatever --rounds says: a round is ~11 s per target (every stream lasts 10 s) and
# what this measures (stalls, TTFB and peak RSS with 2000 streams open) is not the req/s the
# rounds are there for; three rounds would add ~1.5 min to the full run (~2 min with a baseline).
rounds 1 "$SLOW_STREAMS slow streams" chat --body-file "$OUT/slow.json" -c "$SLOW_STREAMS" --requests "$SLOW_STREAMS" \
    --expect '[DONE]' --stall-ms 1000 --duration 60 --timeout 60 --note "1 chunk / 100 ms; stalled = a gap > 1 s"

# --- report ------------------------------------------------------------------
{
    echo "## Switchyard benchmark $(date -u +%Y-%m-%dT%H:%MZ)$( ((QUICK)) && echo ' (quick mode)')"
    echo
    echo "- machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), kernel $(uname -r)," \
        "$(free -h | awk '/^Mem:/ {print $2}') memory"
    echo "- pinning: proxy under test on CPU 0; load generator (bench/loadgen, 1 thread) and fake upstream on CPU 1"
    if [[ -n ${SWITCHYARD_BIN:-} ]]; then
        commit=$SWITCHYARD_BIN
    else
        commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
        git diff --quiet HEAD -- crates 2>/dev/null || commit+=" + uncommitted changes"
    fi
    echo "- $(nginx -v 2>&1 | sed 's/^nginx version: //') (1 worker, upstream keepalive, proxy_buffering and" \
        "proxy_request_buffering off, access log off); Switchyard $commit, --log warn (no access log)"
    if [[ -n ${BASELINE_BIN:-} ]]; then
        echo "- baseline: $BASELINE_LABEL ($BASELINE_BIN), started like switchyard (same config and CPU," \
            "its own data dir), measured next to it in every round"
    fi
    if ((ROUNDS > 1)); then
        echo "- $ROUNDS rounds of each timed scenario, interleaved (round 1 of every target, then round 2 in reverse order, …);" \
            "the slow streams: 1 round"
    fi
    echo "- each timed scenario: ${WARM} s warmup, then ${DUR} s measured; latency is to the end of the body," \
        "TTFB to the first body byte; proxy CPU and peak RSS from /proc over the measured window (nginx: the worker)"
    echo "- added latency = proxy percentile − direct percentile, from the same run;" \
        "stalled = a stream with a silence over 1 s between two chunks;" \
        "listen overflows = connections the kernel dropped from a full accept queue during the run (system-wide counter)"
    echo
    label=()
    [[ -z ${BASELINE_BIN:-} ]] || label=(--baseline-label "$BASELINE_LABEL")
    "$BIN/loadgen" report "$RESULTS" "${label[@]}"
} | tee "$OUT/report.md"

echo >&2
echo "results: $OUT/results.jsonl, report: $OUT/report.md" >&2
if ((${#FAILED[@]})); then
    echo "scenarios that failed to run: ${FAILED[*]}" >&2
    exit 1
fi
