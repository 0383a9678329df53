#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs them.
# Tools the tests use and that cargo cannot provide come from PyPI (moto's server, the AWS
# CLI, parliament) and Debian (shellcheck). A test that needs one of them and does not find
# it fails loudly; this script is what makes sure they are there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pip=()
command -v moto_server >/dev/null 2>&1 || need_pip+=("moto[server]")
if ((${#need_pip[@]})); then
  echo "installing from PyPI: ${need_pip[*]}"
  python3 -m pip install --quiet "${need_pip[@]}"
fi

cargo test --all-targets -- --test-threads="${TEST_THREADS:-4}"
