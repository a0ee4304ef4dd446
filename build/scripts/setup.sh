#!/usr/bin/env bash
# Installs everything Droidway needs on Debian 12 (system packages, node modules) and builds it
# (native addon, isolation probe, TypeScript, renderer). Safe to run again.
#
#   bash build/scripts/setup.sh            # install + build
#   DROIDWAY_SKIP_APT=1 bash ...           # node modules + build only
set -euo pipefail
cd "$(dirname "$0")/../.."

# System packages: the runtime (lxc, busybox-static, e2fsprogs), the display stack used by the
# bridge and its tests (weston, libwayland-*, wayland-protocols), APK tooling for the tests
# (aapt, apksigner, framework-res for aapt -I, a JRE for keytool; unzip for the fixture Android
# tools), the e2e browser (chromium), desktop integration (desktop-file-utils), and
# the native toolchain (g++, make, python3, clang-format).
packages=(
  build-essential python3 clang-format pkg-config
  lxc busybox-static e2fsprogs erofs-utils util-linux iproute2 uidmap
  weston libwayland-dev libwayland-bin wayland-protocols
  aapt apksigner android-framework-res openssl default-jre-headless unzip
  chromium xvfb desktop-file-utils
)

if [ "${DROIDWAY_SKIP_APT:-0}" != "1" ]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
      echo "setup: these Debian packages are missing and neither root nor sudo is available: ${missing[*]}" >&2
      exit 1
    fi
    echo "setup: installing ${missing[*]}"
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# Droidway's block of subordinate ids (see electron/core/runtime/id-ranges.ts): every instance's
# guest ids map to a range of it, never to a host user. newuidmap checks these files even for
# root. The session start registers the block too; this does it once, up front.
droidway_ids="root:1879048192:134217728"
if [ "$(id -u)" -eq 0 ]; then
  for f in /etc/subuid /etc/subgid; do
    grep -qx "$droidway_ids" "$f" 2>/dev/null || echo "$droidway_ids" >>"$f"
  done
fi

if ! command -v node >/dev/null || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "setup: Node.js >= 20.19 is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

echo "setup: installing node modules"
# Electron's binary is fetched separately so that a blocked download (no network, or
# ELECTRON_SKIP_BINARY_DOWNLOAD=1) leaves a working CLI and test suite instead of a failed setup.
ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund
if [ "${ELECTRON_SKIP_BINARY_DOWNLOAD:-0}" = "1" ]; then
  echo "setup: Electron binary download skipped (ELECTRON_SKIP_BINARY_DOWNLOAD=1)"
elif ! node node_modules/electron/install.js >/dev/null 2>&1; then
  echo "setup: the Electron binary could not be downloaded; the desktop window will not start," >&2
  echo "       the CLI (npx droidway) and everything below the window work without it" >&2
fi

echo "setup: building"
npm run build
echo "setup: done. Try: npx droidway doctor"
