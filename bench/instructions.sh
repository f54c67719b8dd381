#!/usr/bin/env bash
# Instructions per request, counted by valgrind (callgrind): a figure a noisy shared machine
# cannot move, to tell a 5 % change from the weather. Each target is run twice under callgrind
# (1,500 and 6,000 plain chat requests, c=16, after 500 of warm-up) and the per-request count is
# the difference of the two totals over the difference of the request counts, so start-up and
# shutdown cancel out.
#
#   bench/instructions.sh                 switchyard with its request log on and off
#   bench/instructions.sh -- FLAGS...     one more target: switchyard serve FLAGS...
#
# SWITCHYARD_BIN=PATH measures another build. Everything runs unpinned on 127.0.0.1 and is
# stopped on exit. Under valgrind a request takes ~50× longer, so the writer's batches are
# ~100 rows rather than 1,000: per-batch costs weigh a little more than at full speed.
# Instructions are not time (IPC differs between code paths): run.sh's ratios stay the
# measure of record; this says where the instructions went and whether a change removed some.
set -euo pipefail
cd "$(dirname "$0")/.."

extra=()
if [[ ${1:-} == -- ]]; then
    shift
    extra=("$@")
elif (($#)); then
    sed -n '2,14p' "$0"
    exit 2
fi
command -v valgrind >/dev/null || {
    echo "installing valgrind" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
}

build=(-p bench-fake-upstream -p bench-loadgen)
[[ -n ${SWITCHYARD_BIN:-} ]] || build=(-p switchyard "${build[@]}")
cargo build --release "${build[@]}"
BIN=${CARGO_TARGET_DIR:-target}/release
SWITCHYARD=${SWITCHYARD_BIN:-$BIN/switchyard}
OUT=$(mktemp -d /tmp/switchyard-instructions.XXXXXX)

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

addr_of() {
    for _ in $(seq 300); do
        if grep -q 'listening on http://' "$1"; then
            sed -n 's|.*listening on http://\([^ /]*\).*|\1|p' "$1" | head -1
            return
        fi
        sleep 0.1
    done
    echo "no listening line in $1:" >&2
    cat "$1" >&2
    exit 1
}

"$BIN/bench-upstream" --listen 127.0.0.1:0 >"$OUT/upstream.out" 2>&1 &
PIDS+=("$!")
UPSTREAM=$(addr_of "$OUT/upstream.out")
cat >"$OUT/switchyard.json" <<EOF
{ "providers": { "bench": {
  "network_config": { "base_url": "http://$UPSTREAM" },
  "custom_provider_config": { "base_provider_type": "openai", "is_key_less": true } } } }
EOF
echo '{"model":"bench/chat","max_tokens":64,"messages":[{"role":"user","content":"Say hello."}]}' >"$OUT/small.json"

# load N ADDR: N chat requests at c=16; prints how many were answered.
load() {
    "$BIN/loadgen" run --scenario instructions --target switchyard --round 1 \
        --url "http://$2/v1/chat/completions" --body-file "$OUT/small.json" -c 16 \
        --requests "$1" --duration 600 --warmup 0 2>>"$OUT/loadgen.err" | python3 -c 'import json, sys; print(json.load(sys.stdin)["ok"])'
}

# run N FLAGS...: "<requests> <instructions>" of one callgrind run answering N (+ warm-up).
run() {
    local requests=$1 dir
    shift
    dir=$(mktemp -d "$OUT/run.XXXX")
    valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" "$SWITCHYARD" serve \
        --config "$OUT/switchyard.json" --port 0 --data-dir "$dir/data" --log warn "$@" \
        >"$dir/switchyard.out" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    local addr warm n
    addr=$(addr_of "$dir/switchyard.out")
    warm=$(load 500 "$addr")
    n=$(load "$requests" "$addr")
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    local ir
    ir=$(awk '/^summary:/ {s += $2} END {print s}' "$dir"/callgrind.out*)
    echo "$((warm + n)) $ir"
}

# per_request LABEL FLAGS...
per_request() {
    local label=$1
    shift
    local short long
    short=$(run 1500 "$@")
    long=$(run 6000 "$@")
    python3 - "$label" "$short" "$long" <<'EOF'
import sys
label, (n1, i1), (n2, i2) = sys.argv[1], *(map(int, a.split()) for a in sys.argv[2:])
if n2 <= n1:
    sys.exit(f"{label}: the long run answered no more requests than the short one ({n2} vs {n1})")
print(f"| {label} | {(i2 - i1) / (n2 - n1):,.0f} | {n1} / {n2} |")
EOF
}

echo "| target | instructions per request | requests (short / long run) |"
echo "|---|--:|--:|"
per_request "switchyard, request log on (default)"
per_request "switchyard --no-request-log" --no-request-log
if ((${#extra[@]})); then
    per_request "switchyard ${extra[*]}" "${extra[@]}"
fi
