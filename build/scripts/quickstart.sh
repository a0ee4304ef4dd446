#!/usr/bin/env bash
# One command from a fresh clone to a running app: installs and builds everything, then starts
# Droidway (or, where the Electron binary is missing, says so and how to use the CLI instead).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash build/scripts/setup.sh
exec npm start
