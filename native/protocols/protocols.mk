# The Wayland protocols the display bridge relays and the rules that build their glue, for the
# Makefiles of native/bridge-process, native/tests and native/fuzz (binding.gyp lists the same
# protocols for the addon). Set OUT, CC and CFLAGS_ALL, then include this file; it defines
#   PROTOCOL_NAMES  the protocols, by the base name of their XML file
#   PROTOCOL_H      the generated server headers, for the dependencies of every bridge object
#   PROTOCOL_C      the generated interface code (hidden symbols, see wayland-scanner.sh)
#   PROTOCOL_O      its objects, compiled with $(CC) $(CFLAGS_ALL)
# Each Makefile puts -I$(OUT)/protocols in its own compiler flags.
PROTOCOLS_MK_DIR := $(dir $(lastword $(MAKEFILE_LIST)))
PROTOCOLS := $(shell pkg-config --variable=pkgdatadir wayland-protocols)
SCANNER := $(shell pkg-config --variable=wayland_scanner wayland-scanner)

PROTOCOL_NAMES := xdg-shell viewporter presentation-time linux-dmabuf-unstable-v1 \
	relative-pointer-unstable-v1 pointer-constraints-unstable-v1 fractional-scale-v1 \
	tablet-unstable-v2
XML_xdg-shell := $(PROTOCOLS)/stable/xdg-shell/xdg-shell.xml
XML_viewporter := $(PROTOCOLS)/stable/viewporter/viewporter.xml
XML_presentation-time := $(PROTOCOLS)/stable/presentation-time/presentation-time.xml
XML_linux-dmabuf-unstable-v1 := $(PROTOCOLS)/unstable/linux-dmabuf/linux-dmabuf-unstable-v1.xml
XML_relative-pointer-unstable-v1 := \
	$(PROTOCOLS)/unstable/relative-pointer/relative-pointer-unstable-v1.xml
XML_pointer-constraints-unstable-v1 := \
	$(PROTOCOLS)/unstable/pointer-constraints/pointer-constraints-unstable-v1.xml
XML_fractional-scale-v1 := $(PROTOCOLS)/staging/fractional-scale/fractional-scale-v1.xml
XML_tablet-unstable-v2 := $(PROTOCOLS)/unstable/tablet/tablet-unstable-v2.xml

PROTOCOL_H := $(PROTOCOL_NAMES:%=$(OUT)/protocols/%-server-protocol.h)
PROTOCOL_C := $(PROTOCOL_NAMES:%=$(OUT)/protocols/%-protocol.c)
PROTOCOL_O := $(PROTOCOL_NAMES:%=$(OUT)/obj/%-protocol.o)

$(OUT)/protocols/%-server-protocol.h $(OUT)/protocols/%-protocol.c:
	sh $(PROTOCOLS_MK_DIR)wayland-scanner.sh $(SCANNER) $(XML_$*) $(OUT)/protocols/$*

$(OUT)/obj/%-protocol.o: $(OUT)/protocols/%-protocol.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<
