#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, put the local speech model in
# place, build Otto and run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

cargo build --quiet -p otto
./target/debug/otto models fetch
./target/debug/otto demo
