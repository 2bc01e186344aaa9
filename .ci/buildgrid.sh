#!/usr/bin/env bash
# Installs BuildGrid (a REAPI server) into target/buildgrid-venv for the remote cache tests,
# which start it on a loopback port themselves (tests/integration/remote.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/buildgrid-venv
if ! "$venv/bin/bgd" --help >/dev/null 2>&1; then
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -m ensurepip --version >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet buildgrid==0.4.4
fi
"$venv/bin/bgd" --help >/dev/null
echo "BuildGrid 0.4.4 at $venv/bin/bgd"
