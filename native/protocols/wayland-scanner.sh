#!/bin/sh
# Generates the display bridge's glue for one protocol at build time (called by binding.gyp):
#   wayland-scanner.sh SCANNER PROTOCOL.xml OUT_PREFIX
# writes OUT_PREFIX-server-protocol.h, OUT_PREFIX-client-protocol.h and OUT_PREFIX-protocol.c.
# The interface tables are private code (hidden symbols), so they cannot clash with another copy
# of the same protocol loaded into the process (Electron's own Wayland client, for one).
set -eu
scanner=$1
xml=$2
out=$3
mkdir -p "$(dirname "$out")"
"$scanner" server-header "$xml" "$out-server-protocol.h"
"$scanner" client-header "$xml" "$out-client-protocol.h"
"$scanner" private-code "$xml" "$out-protocol.c"
