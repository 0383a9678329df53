#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs them.
# Tools the tests use and that cargo cannot provide come from PyPI (moto's server, the AWS
# CLI and its botocore, parliament, cargo-lambda, DuckDB) and Debian (shellcheck, chromium). A test that needs one
# of them and does not find it fails loudly; this script is what makes sure they are there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pip=()
command -v moto_server >/dev/null 2>&1 || need_pip+=("moto[server]")
command -v aws >/dev/null 2>&1 || need_pip+=("awscli")
command -v parliament >/dev/null 2>&1 || need_pip+=("parliament")
# cargo-lambda's `cargo lambda watch --only-lambda-apis`: an independent Runtime API emulator.
command -v cargo-lambda >/dev/null 2>&1 || need_pip+=("cargo-lambda")
# The deploy tests read moto back through botocore in one python3 process (pip's awscli brings
# it; an AWS CLI installed otherwise may not).
python3 -c 'import botocore' >/dev/null 2>&1 || need_pip+=("botocore")
# The outcome log's test reads the log back with DuckDB's read_json, as an analyst would.
python3 -c 'import duckdb' >/dev/null 2>&1 || need_pip+=("duckdb")
if ((${#need_pip[@]})); then
  echo "installing from PyPI: ${need_pip[*]}"
  python3 -m pip install --quiet "${need_pip[@]}"
  # pyenv puts console scripts on PATH through shims made by a rehash.
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
  for tool in moto_server aws parliament cargo-lambda; do
    command -v "$tool" >/dev/null 2>&1 || {
      echo "error: $tool is still not on PATH after pip install" >&2
      exit 1
    }
  done
fi

# deploy.sh's tests: shellcheck lints it; jq, zip and readelf (binutils) are what it runs on.
# The docs' tests (tests/it/docs.rs) run the README's walkthrough with the AWS CLI and deploy.sh
# on moto, and strip the binary they ship (binutils), like the deploy tests.
# The status page's tests open it in headless Chromium (tests/it/support/browser.rs).
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
command -v jq >/dev/null 2>&1 || need_apt+=(jq)
command -v zip >/dev/null 2>&1 || need_apt+=(zip)
# deploy.sh's zip step (scripts/lambda_zip.sh, tests/it/bootstrap.rs): advzip recompresses,
# unzip and zipinfo read the zip back.
command -v advzip >/dev/null 2>&1 || need_apt+=(advancecomp)
command -v zipinfo >/dev/null 2>&1 || need_apt+=(unzip)
command -v readelf >/dev/null 2>&1 || need_apt+=(binutils)
# The TLS tests (tests/it/tls.rs) make a self-signed certificate with openssl.
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if ((${#need_apt[@]})); then
  echo "installing from Debian: ${need_apt[*]}"
  as_root=()
  if [[ "$(id -u)" != 0 ]]; then as_root=(sudo); fi
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq "${need_apt[@]}"
fi

cargo test --workspace --all-targets -- --test-threads="${TEST_THREADS:-4}"
