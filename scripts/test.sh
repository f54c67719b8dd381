#!/usr/bin/env bash
# Runs every test: formatting and lints, Rust unit/integration/doc tests, and the
# end-to-end suite (real binary + fake upstream, driven by the official OpenAI SDK).
# Needs only cargo and python3; Python packages go into ./.venv.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "build binaries (switchyard, fake-upstream)"
cargo build --workspace --bins --locked

step "Rust tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --lib --bins --tests
fi
cargo test --workspace --locked --doc

step "end-to-end tests (Python: openai SDK, httpx, pytest)"
# Reinstall only when the pinned requirements changed since the last install.
if ! cmp -s tests/e2e/requirements.txt .venv/.installed-requirements 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/e2e/requirements.txt
  cp tests/e2e/requirements.txt .venv/.installed-requirements
fi
.venv/bin/pytest -q tests/e2e
