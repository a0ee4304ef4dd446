#!/usr/bin/env bash
# Installs everything Droidway needs on Debian 12 (system packages, node modules) and builds it
# (native addon, isolation probe, TypeScript, renderer). Safe to run again.
#
#   bash build/scripts/setup.sh            # install + build
#   DROIDWAY_SKIP_APT=1 bash ...           # node modules + build only
set -euo pipefail
cd "$(dirname "$0")/../.."

# System packages: the runtime (lxc, busybox-static, e2fsprogs), the display stack used by the
# bridge and its tests (weston, libwayland-*, wayland-protocols; sway, wtype, grim and wl-clipboard for the
# input tests, as sway headless has a seat), APK tooling for the tests
# (aapt, apksigner, framework-res for aapt -I, a JRE for keytool; unzip for the fixture Android
# tools), the e2e browser (chromium), desktop integration (desktop-file-utils), the native
# toolchain (g++, make, python3, clang-format; clang, libFuzzer and the sanitizer runtimes for the
# native fuzz targets),
# polkit (polkitd, pkexec, the D-Bus system bus) for the privileged helper a desktop user
# starts sessions through, and a CJK font for app labels in Chinese, Japanese or Korean
# (fonts-wqy-microhei: 5 MB; fonts-noto-cjk is 91 MB).
packages=(
  build-essential python3 clang-format pkg-config clang libfuzzer-14-dev libclang-rt-14-dev
  lxc busybox-static e2fsprogs erofs-utils util-linux iproute2 uidmap
  weston libwayland-dev libwayland-bin wayland-protocols sway wtype grim wl-clipboard
  aapt apksigner android-framework-res openssl default-jre-headless unzip
  chromium xvfb desktop-file-utils
  polkitd pkexec dbus curl
  fonts-wqy-microhei
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

# Node.js >= 20.19 (vite 7, @sveltejs/vite-plugin-svelte 6; conf needs 20). Stock Debian 12 has
# 18: then the npm registry's node-linux-<arch> and npm packages, pinned, in .cache/node.
fetched_node=""
if ! command -v node >/dev/null || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  echo "setup: Node.js >= 20.19 is needed (found: $(node --version 2>/dev/null || echo none)); fetching it"
  node_dir="$(bash build/scripts/fetch-node.sh)"
  fetched_node="$(dirname "$node_dir")"
  export PATH="$node_dir:$PATH"
  # node-gyp builds the addon against the fetched node's own headers (no download).
  export npm_config_nodedir="$fetched_node"
  echo "setup: using Node.js $(node --version) from the npm registry ($fetched_node)"
fi

echo "setup: installing node modules"
# Electron's binary is fetched separately so that a blocked download (no network, or
# ELECTRON_SKIP_BINARY_DOWNLOAD=1) leaves a working CLI and test suite instead of a failed setup.
ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund
if [ "${ELECTRON_SKIP_BINARY_DOWNLOAD:-0}" = "1" ]; then
  echo "setup: Electron binary download skipped (ELECTRON_SKIP_BINARY_DOWNLOAD=1)"
elif ! node node_modules/electron/install.js >/dev/null 2>&1; then
  echo "setup: the Electron binary could not be downloaded; the desktop window will not start," >&2
  echo "       the CLI (droidway) and everything below the window work without it" >&2
fi

echo "setup: building"
npm run build

# For desktop users: the privileged helper (the only part that runs as root, started by pkexec
# under the polkit action org.droidway.helper), its polkit action, and `droidway` on PATH.
# The helper refuses to run from files a user other than root could change, so a checkout owned
# by a user gets the CLI link but a helper that says so (see README: "Running as a desktop user").
if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else sudo=(false); fi
if "${sudo[@]}" true 2>/dev/null; then
  root="$(pwd -P)"
  node_bin="$(command -v node)"
  if [ -n "$fetched_node" ]; then
    # pkexec runs the helper's node as root: never a copy the user could replace.
    "${sudo[@]}" rm -rf /usr/local/lib/droidway/node
    "${sudo[@]}" mkdir -p /usr/local/lib/droidway
    "${sudo[@]}" cp -a "$fetched_node" /usr/local/lib/droidway/node
    "${sudo[@]}" chown -R root:root /usr/local/lib/droidway/node
    "${sudo[@]}" chmod -R go-w /usr/local/lib/droidway/node
    node_bin=/usr/local/lib/droidway/node/bin/node
  fi
  tmp="$(mktemp)"
  printf '%s\n' '#!/bin/sh' \
    '# Droidway'"'"'s privileged helper, started by pkexec (polkit action org.droidway.helper).' \
    "# Written by build/scripts/setup.sh for the Droidway at $root." \
    "exec \"$node_bin\" \"$root/out/cli/helper-main.js\"" >"$tmp"
  "${sudo[@]}" install -D -o root -g root -m 0755 "$tmp" /usr/local/libexec/droidway-helper
  sed 's#\(<annotate key="org.freedesktop.policykit.exec.path">\)[^<]*#\1/usr/local/libexec/droidway-helper#' \
    build/polkit/org.droidway.helper.policy >"$tmp"
  "${sudo[@]}" install -D -o root -g root -m 0644 "$tmp" /usr/share/polkit-1/actions/org.droidway.helper.policy
  rm -f "$tmp"
  if [ -n "$fetched_node" ]; then
    # The CLI runs on the fetched node, not on the older one the PATH has.
    printf '%s\n' '#!/bin/sh' "exec \"$node_bin\" \"$root/electron/cli/droidway.js\" \"\$@\"" >"$tmp"
    "${sudo[@]}" install -D -o root -g root -m 0755 "$tmp" /usr/local/bin/droidway
    rm -f "$tmp"
  else
    "${sudo[@]}" ln -sfn "$root/electron/cli/droidway.js" /usr/local/bin/droidway
  fi
  echo "setup: installed the privileged helper (/usr/local/libexec/droidway-helper), its polkit action and /usr/local/bin/droidway"
else
  echo "setup: not root and no sudo: the privileged helper and /usr/local/bin/droidway were not installed" >&2
fi
echo "setup: done. Try: droidway doctor"
