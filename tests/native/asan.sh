#!/usr/bin/env bash
# Rebuilds the native module with AddressSanitizer into tests/artifacts/asan-native/ (the normal
# build in native/build/ is left alone) and runs the native tests against it, in this process and
# in the child processes they start. Leak detection is off: Node itself keeps allocations alive
# until exit, which LeakSanitizer would report. Any ASan report fails the run.
# Usage: tests/native/asan.sh [test files…]  (default: the tests that load the addon)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/tests/artifacts/asan-native"
rm -rf "$out"
mkdir -p "$out"
cp "$root/native/binding.gyp" "$out/"
ln -s "$root/native/src" "$out/src"
ln -s "$root/native/protocols" "$out/protocols"

export CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g -O1"
export CXXFLAGS="$CFLAGS"
export LDFLAGS="-fsanitize=address"
(cd "$root" && npx node-gyp rebuild --directory="$out" >"$out/build.log" 2>&1) || {
  tail -40 "$out/build.log" >&2
  exit 1
}
addon="$out/build/Release/droidway_native.node"
# grep -q would end the pipe early and fail nm with SIGPIPE under pipefail.
if ! nm -D "$addon" | grep __asan_ >/dev/null; then
  echo "asan.sh: $addon was not built with AddressSanitizer" >&2
  exit 1
fi

libasan="$(gcc -print-file-name=libasan.so)"
log="$out/asan-report"
export DROIDWAY_NATIVE_PATH="$addon"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$log"
cd "$root"
# The tests that load the addon; other native-layer tests (e.g. the probe's) do not use it.
tests=(tests/native/ashmem-share.test.ts tests/native/fd-inspect.test.ts tests/native/fd-passing.test.ts
  tests/native/native-module.test.ts tests/native/bridge.test.ts tests/native/bridge-dmabuf.test.ts)
# The display bridge against real weston and real (hostile) guests: its thread, relay and
# teardown paths only run there. They need root, weston and gcc, as in the integration project.
integration=(tests/integration/bridge.test.ts tests/integration/bridge-limits.test.ts
  tests/integration/bridge-demo-client.test.ts tests/integration/bridge-protocols.test.ts
  tests/integration/bridge-input.test.ts tests/integration/bridge-clipboard.test.ts)
if [ $# -gt 0 ]; then
  tests=("$@")
  integration=()
fi
LD_PRELOAD="$libasan" npx vitest run --project native "${tests[@]}"
if [ ${#integration[@]} -gt 0 ]; then
  # weston, gcc and the guests inherit the runtime too; with leak detection off they run as usual
  # and any report of theirs would fail the run just the same.
  LD_PRELOAD="$libasan" npx vitest run --project integration "${integration[@]}"
fi
if compgen -G "$log.*" >/dev/null; then
  echo "asan.sh: AddressSanitizer reported errors:" >&2
  cat "$log".* >&2
  exit 1
fi
echo "asan.sh: native and display bridge tests passed under AddressSanitizer with no reports"
