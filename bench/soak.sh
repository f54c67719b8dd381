#!/usr/bin/env bash
# Switchyard soak test: mixed traffic with injected faults through one proxy for
# a long time, sampling the proxy's RSS, open file descriptors, threads and TCP
# connections; flat memory is the pass criterion.
#
#   bench/soak.sh               30 minutes, a sample every 30 s
#   bench/soak.sh --ci          3 minutes, a sample every 5 s (CI)
#   bench/soak.sh --minutes N   N minutes; a sample every N s (5 to 30)
#   bench/soak.sh --interval S  sample every S seconds instead
#   bench/soak.sh --no-pin      no CPU pinning: the proxy sees 2 CPUs and runs tokio's
#                               multi-thread runtime (pinned to one CPU it runs current-thread)
#
# Traffic (32 connections in all, from bench/loadgen, to bench/bench-upstream):
# OpenAI chat and chat streams passed through, Anthropic Messages and Responses
# translated onto chat, clients that disconnect mid-stream, and faults: 503 and
# 429 the proxy retries away, a 503 it passes on, streams that break, end
# without [DONE] or stall past a 1 s stream idle timeout, an upstream that drops
# the connection before answering, and a provider on a closed port.
#
# Pass (exit 0), else exit 1 naming what failed:
#   - RSS: growth from the first sample after the warm-up (the first 20 % of the
#     run) to the last sample under load is under 10 % of the former + 8 MiB;
#   - fds: no upward trend: the most fds in the last 3 samples under load is at
#     most the most in the first 3 after the warm-up + 10 % + 16;
#   - the proxy never died and answers GET /health after the run;
#   - every traffic class got at least one answer of the expected kind
#     (the fault classes count the proxy's correct error as the answer).
# The proxy runs on CPU 0, load and upstream on CPU 1, all on 127.0.0.1, and
# everything is stopped on exit. The work files (configs, logs, samples.csv,
# report.md) go to a temporary directory, removed after a passing run (the proxy's
# warn-level log of every fault is ~50 MB for 3 min); SOAK_OUT=DIR keeps them there.
# SOAK_RSS_SLACK_MIB=N replaces the 8 MiB of the RSS limit (a negative N forces a
# failure, to see the failing path).
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=30 INTERVAL='' CI_MODE=0 PIN=1
while (($#)); do
    case $1 in
        --ci) CI_MODE=1 MINUTES=3 ;;
        --minutes) MINUTES=$2; shift ;;
        --interval) INTERVAL=$2; shift ;;
        --no-pin) PIN=0 ;;
        -h | --help) sed -n '2,36p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
if ! [[ $MINUTES =~ ^[0-9]+$ ]] || ((MINUTES < 1)); then
    echo "--minutes wants a whole number >= 1" >&2
    exit 2
fi
DUR=$((MINUTES * 60))
if [[ -z $INTERVAL ]]; then
    INTERVAL=$MINUTES
    ((INTERVAL < 5)) && INTERVAL=5
    ((INTERVAL > 30)) && INTERVAL=30
fi
if ! [[ $INTERVAL =~ ^[0-9]+$ ]] || ((INTERVAL < 1 || INTERVAL * 4 > DUR)); then
    echo "--interval wants a whole number of seconds, at most a quarter of the run" >&2
    exit 2
fi
WARMUP=$((DUR / 5))

# --- tools -------------------------------------------------------------------
export PATH="$PATH:/usr/sbin:/sbin"
missing=()
command -v taskset >/dev/null || missing+=(util-linux)
command -v getconf >/dev/null || missing+=(libc-bin)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    echo "installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo build --release -p switchyard -p bench-fake-upstream -p bench-loadgen
BIN=${CARGO_TARGET_DIR:-target}/release

OUT=${SOAK_OUT:-$(mktemp -d /tmp/switchyard-soak.XXXXXX)}
KEEP_OUT=${SOAK_OUT:+1}
mkdir -p "$OUT"
CSV=$OUT/samples.csv
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if ((PIN && $(nproc) >= 2)); then
    PROXY_CPU=(taskset -c 0) LOAD_CPU=(taskset -c 1)
else
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

"${LOAD_CPU[@]}" "$BIN/bench-upstream" --listen 127.0.0.1:0 >"$OUT/upstream.out" 2>"$OUT/upstream.out.err" &
UP_PID=$!
PIDS+=("$UP_PID")
UPSTREAM=$(listening_addr "$OUT/upstream.out" "$UP_PID")
CLOSED_PORT=$(free_port) # nothing listens there: connection refused

# bench: the upstream, retrying quickly (5-20 ms backoff) so that retried faults
# do not idle the connections; chat only, so that Responses are emulated via chat. stall: the same upstream with a 1 s stream idle
# timeout. refused: a closed port.
cat >"$OUT/switchyard.json" <<EOF
{
  "providers": {
    "bench": {
      "network_config": { "base_url": "http://$UPSTREAM", "max_retries": 2,
                          "retry_backoff_initial_ms": 5, "retry_backoff_max_ms": 20 },
      "custom_provider_config": { "base_provider_type": "openai", "is_key_less": true,
        "allowed_requests": { "chat_completion": true, "chat_completion_stream": true,
                              "responses": false, "responses_stream": false } }
    },
    "stall": {
      "network_config": { "base_url": "http://$UPSTREAM", "stream_idle_timeout_in_seconds": 1, "max_retries": 0 },
      "custom_provider_config": { "base_provider_type": "openai", "is_key_less": true }
    },
    "refused": {
      "network_config": { "base_url": "http://127.0.0.1:$CLOSED_PORT", "max_retries": 1,
                          "retry_backoff_initial_ms": 5, "retry_backoff_max_ms": 20 },
      "custom_provider_config": { "base_provider_type": "openai", "is_key_less": true }
    }
  }
}
EOF
"${PROXY_CPU[@]}" "$BIN/switchyard" serve --config "$OUT/switchyard.json" --port 0 --data-dir "$OUT/data" \
    --log warn >"$OUT/switchyard.out" 2>"$OUT/switchyard.out.err" &
SY_PID=$!
PIDS+=("$SY_PID")
SWITCHYARD=$(listening_addr "$OUT/switchyard.out" "$SY_PID")

# --- traffic classes -----------------------------------------------------------
MSG='"messages":[{"role":"user","content":"Say hello."}]'
body() { # body FILE KIND MODEL: KIND is chat, chat-stream, anthropic, anthropic-stream, responses-stream
    local model=$3
    case $2 in
        chat) echo "{\"model\":\"$model\",\"max_tokens\":64,$MSG}" ;;
        chat-stream) echo "{\"model\":\"$model\",\"max_tokens\":64,\"stream\":true,$MSG}" ;;
        anthropic) echo "{\"model\":\"$model\",\"max_tokens\":64,$MSG}" ;;
        anthropic-stream) echo "{\"model\":\"$model\",\"max_tokens\":64,\"stream\":true,$MSG}" ;;
        responses-stream) echo "{\"model\":\"$model\",\"stream\":true,\"input\":\"Say hello.\"}" ;;
    esac >"$1"
}
CHAT=/v1/chat/completions ANTH=/anthropic/v1/messages RESP=/v1/responses
AV=(--header 'anthropic-version: 2023-06-01')
NAMES=() CONC=() LG_PIDS=()
# class NAME CONCURRENCY PATH KIND MODEL LOADGEN-ARGS...
class() {
    local name=$1 c=$2 path=$3 kind=$4 model=$5 i=${#NAMES[@]}
    shift 5
    NAMES+=("$name") CONC+=("$c")
    body "$OUT/body-$i.json" "$kind" "$model"
    # Runs 2 s past the last sample, so that it is taken under load.
    "${LOAD_CPU[@]}" "$BIN/loadgen" run --scenario "$name" --target switchyard --url "http://$SWITCHYARD$path" \
        --body-file "$OUT/body-$i.json" -c "$c" --duration $((DUR + 2)) --timeout 30 --progress "$INTERVAL" \
        "$@" >"$OUT/class-$i.json" 2>"$OUT/class-$i.err" &
    LG_PIDS+=($!)
    PIDS+=($!)
}

# --- sampling ------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
status_kb() { awk -v f="$2" '$1 == f {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
# Established and CLOSE_WAIT TCP sockets held by PID (its socket inodes in /proc/net/tcp{,6}).
tcp_counts() {
    # An fd may close while find reads the directory: its error is not a failure.
    { find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null || true; } | tr -dc '0-9\n' >"$OUT/.inodes"
    echo 0 >>"$OUT/.inodes" # never empty, or awk would take the first tcp table for the inode list
    awk 'NR == FNR {ino[$1] = 1; next}
         FNR > 1 && ($10 in ino) {if ($4 == "01") e++; else if ($4 == "08") cw++}
         END {print e + 0, cw + 0}' "$OUT/.inodes" "/proc/$1/net/tcp" "/proc/$1/net/tcp6"
}
# Requests answered so far, all classes (the last progress line of each).
requests_done() {
    local total=0 f line
    for f in "$OUT"/class-*.err; do
        [[ -e $f ]] || continue
        line=$(grep -a '^progress ' "$f" | tail -1 || true)
        [[ $line =~ ok=([0-9]+)\ failed=([0-9]+) ]] && total=$((total + BASH_REMATCH[1] + BASH_REMATCH[2]))
    done
    echo "$total"
}

echo "t_s,phase,rss_kib,rss_anon_kib,fds,threads,tcp_established,tcp_close_wait,cpu_pct,req_per_s" >"$CSV"
ROW_FMT="%6s  %-7s %9s %9s %6s %7s %6s %6s %6s %8s\n"
PREV_TICKS=$(cpu_ticks "$SY_PID") PREV_REQ=0 PREV_T=0
T0=$(date +%s%N)
# sample T PHASE: one row into the CSV and the table.
sample() {
    local t=$1 phase=$2 now rss anon fds threads est cw ticks req dt cpu rps
    kill -0 "$SY_PID" 2>/dev/null || { echo "the proxy died at t=${t}s" >&2; return 1; }
    rss=$(status_kb "$SY_PID" VmRSS:) anon=$(status_kb "$SY_PID" RssAnon:) threads=$(status_kb "$SY_PID" Threads:)
    fds=$({ find "/proc/$SY_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null || true; } | wc -l)
    read -r est cw < <(tcp_counts "$SY_PID")
    ticks=$(cpu_ticks "$SY_PID") req=$(requests_done)
    now=$((($(date +%s%N) - T0) / 1000000))
    dt=$((now - PREV_T))
    ((dt > 0)) || dt=1
    cpu=$(awk -v a="$ticks" -v b="$PREV_TICKS" -v hz="$CLK_TCK" -v ms="$dt" 'BEGIN {printf "%.0f", 100 * (a - b) / hz / (ms / 1000)}')
    rps=$(awk -v a="$req" -v b="$PREV_REQ" -v ms="$dt" 'BEGIN {r = (a - b) / (ms / 1000); printf "%.0f", r < 0 ? 0 : r}')
    # Rates are for load intervals only: the idle and after samples follow no such interval.
    [[ $phase == idle || $phase == after ]] && cpu='' rps=''
    PREV_TICKS=$ticks PREV_REQ=$req PREV_T=$now
    echo "$t,$phase,$rss,$anon,$fds,$threads,$est,$cw,$cpu,$rps" >>"$CSV"
    # shellcheck disable=SC2059
    printf "$ROW_FMT" "$t" "$phase" "$rss" "$anon" "$fds" "$threads" "$est" "$cw" "$cpu" "$rps"
}
sleep_until() { # seconds after T0
    local left=$(($1 * 1000 - ($(date +%s%N) - T0) / 1000000))
    ((left > 0)) && sleep "$(awk -v ms="$left" 'BEGIN {print ms / 1000}')"
    return 0
}

echo "soak: ${MINUTES} min of mixed traffic with faults, a sample every ${INTERVAL} s, warm-up ${WARMUP} s; work files in $OUT"
# shellcheck disable=SC2059
printf "$ROW_FMT" t_s phase rss_kib anon_kib fds threads estab clwait cpu% req/s
sleep 1
sample 0 idle

class "chat" 4 $CHAT chat bench/chat
class "chat stream" 4 $CHAT chat-stream bench/stream-20 --expect '[DONE]'
class "anthropic→openai" 3 $ANTH anthropic bench/chat "${AV[@]}" --expect '"end_turn"'
class "anthropic→openai stream" 4 $ANTH anthropic-stream bench/stream-20 "${AV[@]}" --expect 'message_stop'
class "responses→chat stream" 2 $RESP responses-stream bench/stream-20 --expect 'response.completed'
class "client disconnect, chat stream" 2 $CHAT chat-stream bench/slow-20-20 --disconnect-after 3
class "client disconnect, anthropic stream" 1 $ANTH anthropic-stream bench/slow-20-20 "${AV[@]}" --disconnect-after 3
class "503 every 2nd, retried" 1 $CHAT chat bench/flaky-503-2
class "503 every 2nd, retried, stream" 1 $CHAT chat-stream bench/flaky-503-2-stream --expect '[DONE]'
class "429 every 2nd, retried" 1 $CHAT chat bench/flaky-429-2
class "503 always, passed on" 1 $CHAT chat bench/status-503 --status 503
class "stream reset upstream" 2 $CHAT chat-stream bench/reset-5 --expect 'upstream_stream_error'
class "stream reset, anthropic→openai" 1 $ANTH anthropic-stream bench/reset-5 "${AV[@]}" --expect 'event: error'
class "stream truncated upstream" 1 $CHAT chat-stream bench/truncate-5 --expect 'upstream_stream_truncated'
class "stream stall > 1 s idle timeout" 2 $CHAT chat-stream stall/stall-3-5000 --expect 'upstream_stream_idle_timeout'
class "upstream drops connection" 1 $CHAT chat bench/drop --status 502
class "connection refused" 1 $CHAT chat refused/chat --status 502

DIED=0
for ((t = INTERVAL; t <= DUR; t += INTERVAL)); do
    sleep_until "$t"
    phase=load
    ((t < WARMUP)) && phase=warmup
    sample "$t" "$phase" || { DIED=1; break; }
done

LG_FAILED=()
for i in "${!LG_PIDS[@]}"; do
    wait "${LG_PIDS[$i]}" || LG_FAILED+=("${NAMES[$i]}: $(tail -1 "$OUT/class-$i.err")")
done
if ((!DIED)); then
    sleep 3
    now=$((($(date +%s%N) - T0) / 1000))
    sample "$((now / 1000000))" after || DIED=1
fi
HEALTH=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$SWITCHYARD/health" || true)
HEALTH_BODY=$(curl -s -m 5 "http://$SWITCHYARD/health" || true)

# --- verdict -------------------------------------------------------------------
# The first sample at or after the warm-up, the last under load, and the fd windows.
read -r W_T W_RSS E_T E_RSS FD_WARM FD_END SLOPE < <(awk -F, -v warm="$WARMUP" '
    NR == 1 || ($2 != "load" && $2 != "warmup") {next}
    $1 >= warm {n++; t[n] = $1; rss[n] = $3; fd[n] = $5}
    END {
        if (n < 2) {print "0 0 0 0 0 0 0"; exit}
        fw = 0; for (i = 1; i <= 3 && i <= n; i++) if (fd[i] > fw) fw = fd[i]
        fe = 0; for (i = n; i > n - 3 && i >= 1; i--) if (fd[i] > fe) fe = fd[i]
        # least-squares RSS slope over the post-warm-up samples, KiB per minute
        for (i = 1; i <= n; i++) {sx += t[i]; sy += rss[i]; sxx += t[i] * t[i]; sxy += t[i] * rss[i]}
        d = n * sxx - sx * sx; slope = d ? (n * sxy - sx * sy) / d * 60 : 0
        printf "%d %d %d %d %d %d %.0f\n", t[1], rss[1], t[n], rss[n], fw, fe, slope
    }' "$CSV")
RSS_LIMIT=$((W_RSS / 10 + ${SOAK_RSS_SLACK_MIB:-8} * 1024))
FD_LIMIT=$((FD_WARM + FD_WARM / 10 + 16))
GROWTH=$((E_RSS - W_RSS))
FAIL=()
((DIED)) && FAIL+=("the proxy died")
((W_RSS > 0)) || FAIL+=("too few samples after the warm-up")
((GROWTH < RSS_LIMIT)) ||
    FAIL+=("RSS grew ${GROWTH} KiB after the warm-up (limit ${RSS_LIMIT} KiB = 10% + ${SOAK_RSS_SLACK_MIB:-8} MiB)")
((FD_END <= FD_LIMIT)) || FAIL+=("open fds trend up: ${FD_END} at the end vs ${FD_WARM} after the warm-up (limit ${FD_LIMIT})")
[[ $HEALTH == 200 && $HEALTH_BODY == *'"status":"ok"'* ]] || FAIL+=("GET /health after the run answered '${HEALTH}' ${HEALTH_BODY}")
for f in "${LG_FAILED[@]}"; do FAIL+=("traffic class failed: $f"); done

TOTAL_REQ=$(python3 -c '
import json, sys
n = 0
for f in sys.argv[1:]:
    try:
        r = json.loads(open(f).read())
        n += r["ok"] + r["failed"]
    except (OSError, ValueError, KeyError):
        pass
print(n)' "$OUT"/class-*.json)
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
{
    echo "## Switchyard soak $(date -u +%Y-%m-%dT%H:%MZ), ${MINUTES} min$( ((CI_MODE)) && echo ' (CI mode)')"
    echo
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    git diff --quiet HEAD -- crates 2>/dev/null || commit+=" + uncommitted changes"
    pinning="proxy on CPU 0 (so tokio's current-thread runtime), loadgen and bench-upstream on CPU 1"
    ((${#PROXY_CPU[@]})) || pinning="no CPU pinning"
    echo "- machine: $(nproc) CPUs, kernel $(uname -r); Switchyard $commit (release), --log warn;" \
        "$pinning; $(IFS=+; echo "$((${CONC[*]}))") connections in ${#NAMES[@]} traffic classes," \
        "$TOTAL_REQ requests in all"
    echo "- a sample every ${INTERVAL} s; warm-up ${WARMUP} s (20 %); \`after\` = 3 s after the load stopped"
    echo "- RSS after the warm-up (t=${W_T} s): $(mib "$W_RSS") MiB; at the end (t=${E_T} s): $(mib "$E_RSS") MiB;" \
        "growth ${GROWTH} KiB (limit ${RSS_LIMIT} KiB); least-squares slope after the warm-up ${SLOPE} KiB/min"
    echo "- open fds: at most ${FD_WARM} in the first 3 samples after the warm-up, ${FD_END} in the last 3 (limit ${FD_LIMIT});" \
        "GET /health after the run: ${HEALTH}"
    echo "- proxy log (warn level): $(wc -l <"$OUT/switchyard.out.err") lines, $(du -h "$OUT/switchyard.out.err" | cut -f1)"
    if ((${#FAIL[@]})); then echo "- **FAILED**: $(IFS=';'; echo "${FAIL[*]}")"; else echo "- **passed**"; fi
    echo
    echo "| t (s) | phase | RSS (KiB) | anon (KiB) | fds | threads | TCP estab. | CLOSE_WAIT | CPU % | req/s |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    tail -n +2 "$CSV" | awk -F, '{printf "| %s |\n", $0}' | sed 's/,/ | /g'
    echo
    echo "| traffic class | conns | answered as expected | other | errors |"
    echo "|---|---:|---:|---:|---|"
    for i in "${!NAMES[@]}"; do
        python3 - "$OUT/class-$i.json" "${NAMES[$i]}" "${CONC[$i]}" <<'PY' || echo "| ${NAMES[$i]} | ${CONC[$i]} | – | – | no result |"
import json, sys
r = json.loads(open(sys.argv[1]).read() or "{}")
errs = ", ".join(f"{k} {v}" for k, v in sorted(r.get("errors", {}).items(), key=lambda kv: -kv[1]))
print(f"| {sys.argv[2]} | {sys.argv[3]} | {r['ok']} | {r['failed']} | {errs or '–'} |")
PY
    done
} >"$OUT/report.md"
echo
cat "$OUT/report.md"
echo >&2
[[ -n $KEEP_OUT ]] && echo "samples: $CSV, report: $OUT/report.md" >&2
if ((${#FAIL[@]})); then
    printf 'soak FAILED: %s\n' "${FAIL[@]}" >&2
    echo "work files kept in $OUT" >&2
    exit 1
fi
[[ -n $KEEP_OUT ]] || rm -rf "$OUT"
echo "soak passed: RSS growth ${GROWTH} KiB < ${RSS_LIMIT} KiB, fds ${FD_END} <= ${FD_LIMIT}, /health 200" >&2
