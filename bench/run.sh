#!/usr/bin/env bash
# Switchyard benchmark: every scenario against (a) the fake upstream directly,
# (b) nginx -> upstream and (c) Switchyard -> upstream, in one run, printed as
# markdown tables with absolute figures and ratios.
#
#   bench/run.sh            full run (~4 min after the build)
#   bench/run.sh --quick    every scenario briefly; exits non-zero only if a
#                           scenario failed to run (no request succeeded, a
#                           process died), never on performance figures
#   bench/run.sh --only RE  only the scenarios whose name matches the regex
#
# The proxy under test runs on CPU 0; the load generator and the upstream on
# CPU 1. Everything is on 127.0.0.1 and is stopped on exit. Needs root (or the
# tools already installed) for apt-get. BENCH_OUT=DIR keeps the work files there;
# SWITCHYARD_BIN=PATH measures another build of switchyard (an A/B comparison).
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0 ONLY=
while (($#)); do
    case $1 in
        --quick) QUICK=1 ;;
        --only) ONLY=$2; shift ;;
        -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

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
if ((${#missing[@]})); then
    echo "installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo build --release -p switchyard -p bench-fake-upstream -p bench-loadgen
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
# Access log off (warn), as nginx's is: one log line per request is not what is measured here.
"${PROXY_CPU[@]}" "${SWITCHYARD_BIN:-$BIN/switchyard}" serve --config "$OUT/switchyard.json" --port 0 --data-dir "$OUT/data" \
    --log warn >"$OUT/switchyard.out" 2>"$OUT/switchyard.out.err" &
SY_PID=$!
PIDS+=("$SY_PID")
SWITCHYARD=$(listening_addr "$OUT/switchyard.out" "$SY_PID")

sleep 1
echo "{\"target\":\"switchyard\",\"idle_rss_kb\":$(rss_kb "$SY_PID" VmRSS:)}" >>"$RESULTS"
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
declare -A BASE=([direct]=$UPSTREAM [nginx]=127.0.0.1:$NGINX_PORT [switchyard]=$SWITCHYARD)
declare -A PROC=([direct]=$UP_PID [nginx]=$NGINX_WORKER [switchyard]=$SY_PID)

# measure SCENARIO TARGET PATH LOADGEN-ARGS...
measure() {
    local scenario=$1 target=$2 path=$3
    shift 3
    [[ -z $ONLY || $scenario =~ $ONLY ]] || return 0
    local pid=()
    [[ $target != direct ]] && pid=(--pid "${PROC[$target]}")
    if ! "${LOAD_CPU[@]}" "$BIN/loadgen" run --scenario "$scenario" --target "$target" \
        --url "http://${BASE[$target]}$path" --clk-tck "$CLK_TCK" "${pid[@]}" "$@" >>"$RESULTS"; then
        FAILED+=("$scenario/$target")
    fi
    if ! kill -0 "${PROC[$target]}" 2>/dev/null; then
        echo "$target died during $scenario" >&2
        FAILED+=("$scenario/$target (process died)")
        exit 1
    fi
}

# every SCENARIO LOADGEN-ARGS...: the same request through all three paths.
every() {
    local scenario=$1
    shift
    for target in direct nginx switchyard; do
        measure "$scenario" "$target" /v1/chat/completions "$@"
    done
}

timed=(--duration "$DUR" --warmup "$WARM")
every "chat c=1" --body-file "$OUT/small.json" -c 1 "${timed[@]}"
every "chat c=64" --body-file "$OUT/small.json" -c 64 "${timed[@]}"
every "chat 100KB body c=16" --body-file "$OUT/large.json" -c 16 "${timed[@]}"
every "stream 50 chunks c=64" --body-file "$OUT/stream.json" -c 64 --expect '[DONE]' "${timed[@]}"

reference="plain chat (reference: no translation)"
measure "anthropic→openai c=1" direct /v1/chat/completions --note "$reference" \
    --body-file "$OUT/small.json" -c 1 "${timed[@]}"
measure "anthropic→openai c=1" nginx /v1/chat/completions --note "$reference" \
    --body-file "$OUT/small.json" -c 1 "${timed[@]}"
measure "anthropic→openai c=1" switchyard /anthropic/v1/messages --note "Anthropic Messages in, OpenAI chat up" \
    --header 'anthropic-version: 2023-06-01' --body-file "$OUT/anthropic-small.json" -c 1 --expect '"end_turn"' \
    "${timed[@]}"

reference="plain chat stream (reference: no translation)"
measure "anthropic→openai stream c=64" direct /v1/chat/completions --note "$reference" \
    --body-file "$OUT/stream.json" -c 64 --expect '[DONE]' "${timed[@]}"
measure "anthropic→openai stream c=64" nginx /v1/chat/completions --note "$reference" \
    --body-file "$OUT/stream.json" -c 64 --expect '[DONE]' "${timed[@]}"
measure "anthropic→openai stream c=64" switchyard /anthropic/v1/messages --note "Anthropic Messages in, OpenAI chat up" \
    --header 'anthropic-version: 2023-06-01' --body-file "$OUT/anthropic.json" -c 64 --expect 'message_stop' "${timed[@]}"

slow=("$SLOW_STREAMS slow streams" --body-file "$OUT/slow.json" -c "$SLOW_STREAMS" --requests "$SLOW_STREAMS"
    --expect '[DONE]' --stall-ms 1000 --duration 60 --timeout 60 --note "1 chunk / 100 ms; stalled = a gap > 1 s")
every "${slow[@]}"

# --- report ------------------------------------------------------------------
{
    echo "## Switchyard benchmark $(date -u +%Y-%m-%dT%H:%MZ)$( ((QUICK)) && echo ' (quick mode)')"
    echo
    echo "- machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), kernel $(uname -r)," \
        "$(free -h | awk '/^Mem:/ {print $2}') memory"
    echo "- pinning: proxy under test on CPU 0; load generator (bench/loadgen, 1 thread) and fake upstream on CPU 1"
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    git diff --quiet HEAD -- crates 2>/dev/null || commit+=" + uncommitted changes"
    echo "- $(nginx -v 2>&1 | sed 's/^nginx version: //') (1 worker, upstream keepalive, proxy_buffering and" \
        "proxy_request_buffering off, access log off); Switchyard $commit, --log warn (no access log)"
    echo "- each timed scenario: ${WARM} s warmup, then ${DUR} s measured; latency is to the end of the body," \
        "TTFB to the first body byte; proxy CPU and peak RSS from /proc over the measured window (nginx: the worker)"
    echo "- added latency = proxy percentile − direct percentile, from the same run;" \
        "stalled = a stream with a silence over 1 s between two chunks;" \
        "listen overflows = connections the kernel dropped from a full accept queue during the run (system-wide counter)"
    echo
    "$BIN/loadgen" report "$RESULTS"
} | tee "$OUT/report.md"

echo >&2
echo "results: $OUT/results.jsonl, report: $OUT/report.md" >&2
if ((${#FAILED[@]})); then
    echo "scenarios that failed to run: ${FAILED[*]}" >&2
    exit 1
fi
