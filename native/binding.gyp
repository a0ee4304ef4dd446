{
  "variables": {
    "wayland_protocols_dir": "<!(pkg-config --variable=pkgdatadir wayland-protocols)",
    "wayland_scanner": "<!(pkg-config --variable=wayland_scanner wayland-scanner)"
  },
  "targets": [
    {
      "target_name": "droidway_native",
      "sources": [
        "src/addon.cc",
        "src/addon_state.cc",
        "src/ashmem.cc",
        "src/fd_inspect.cc",
        "src/fd_ops.cc",
        "src/fd_passing.cc",
        "src/js_args.cc",
        "src/mapping.cc",
        "src/native_error.cc",
        "src/bridge/bridge.cc",
        "src/bridge/bridge_client.cc",
        "src/bridge/wire_fastpath.cc",
        "src/bridge/socket_io.cc",
        "src/bridge/bridge_js.cc",
        "src/bridge/data_device_relay.cc",
        "src/bridge/dmabuf_policy.cc",
        "src/bridge/guest_display_hook.cc",
        "src/bridge/host_connection.cc",
        "src/bridge/keymap_copy.cc",
        "src/bridge/relay_dmabuf.cc",
        "src/bridge/relay_object.cc",
        "src/bridge/relay_seat.cc",
        "src/bridge/relay_shm.cc",
        "src/bridge/relay_surface.cc",
        "src/bridge/relay_tablet.cc",
        "src/bridge/relay_xdg.cc",
        "src/bridge/shm_copy.cc",
        "src/bridge/shm_policy.cc",
        "src/bridge/surface_policy.cc",
        "src/bridge/text_sanitize.cc"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include\")",
        "<(INTERMEDIATE_DIR)/protocols"
      ],
      "defines": ["NAPI_VERSION=9", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags": [
        "-Wall",
        "-Wextra",
        "-Werror",
        "-fvisibility=hidden",
        "<!@(pkg-config --cflags wayland-server wayland-client)"
      ],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Werror"],
      "libraries": ["<!@(pkg-config --libs wayland-server wayland-client)"],
      "actions": [
        {
          "action_name": "wayland_scanner_xdg_shell",
          "inputs": ["<(wayland_protocols_dir)/stable/xdg-shell/xdg-shell.xml"],
          "outputs": [
            "<(INTERMEDIATE_DIR)/protocols/xdg-shell-server-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/xdg-shell-client-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/xdg-shell-protocol.c"
          ],
          "process_outputs_as_sources": 1,
          "action": [
            "sh", "protocols/wayland-scanner.sh", "<(wayland_scanner)",
            "<(wayland_protocols_dir)/stable/xdg-shell/xdg-shell.xml",
            "<(INTERMEDIATE_DIR)/protocols/xdg-shell"
          ],
          "message": "wayland-scanner xdg-shell"
        },
        {
          "action_name": "wayland_scanner_viewporter",
          "inputs": ["<(wayland_protocols_dir)/stable/viewporter/viewporter.xml"],
          "outputs": [
            "<(INTERMEDIATE_DIR)/protocols/viewporter-server-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/viewporter-client-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/viewporter-protocol.c"
          ],
          "process_outputs_as_sources": 1,
          "action": [
            "sh", "protocols/wayland-scanner.sh", "<(wayland_scanner)",
            "<(wayland_protocols_dir)/stable/viewporter/viewporter.xml",
            "<(INTERMEDIATE_DIR)/protocols/viewporter"
          ],
          "message": "wayland-scanner viewporter"
        },
        {
          "action_name": "wayland_scanner_presentation_time",
          "inputs": ["<(wayland_protocols_dir)/stable/presentation-time/presentation-time.xml"],
          "outputs": [
            "<(INTERMEDIATE_DIR)/protocols/presentation-time-server-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/presentation-time-client-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/presentation-time-protocol.c"
          ],
          "process_outputs_as_sources": 1,
          "action": [
            "sh", "protocols/wayland-scanner.sh", "<(wayland_scanner)",
            "<(wayland_protocols_dir)/stable/presentation-time/presentation-time.xml",
            "<(INTERMEDIATE_DIR)/protocols/presentation-time"
          ],
          "message": "wayland-scanner presentation-time"
        },
        {
          "action_name": "wayland_scanner_linux_dmabuf_unstable_v1",
          "inputs": [
            "<(wayland_protocols_dir)/unstable/linux-dmabuf/linux-dmabuf-unstable-v1.xml"
          ],
          "outputs": [
            "<(INTERMEDIATE_DIR)/protocols/linux-dmabuf-unstable-v1-server-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/linux-dmabuf-unstable-v1-client-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/linux-dmabuf-unstable-v1-protocol.c"
          ],
          "process_outputs_as_sources": 1,
          "action": [
            "sh", "protocols/wayland-scanner.sh", "<(wayland_scanner)",
            "<(wayland_protocols_dir)/unstable/linux-dmabuf/linux-dmabuf-unstable-v1.xml",
            "<(INTERMEDIATE_DIR)/protocols/linux-dmabuf-unstable-v1"
          ],
          "message": "wayland-scanner linux-dmabuf-unstable-v1"
        },
        {
          "action_name": "wayland_scanner_relative_pointer_unstable_v1",
          "inputs": ["<(wayland_protocols_dir)/unstable/relative-pointer/relative-pointer-unstable-v1.xml"],
          "outputs": [
            "<(INTERMEDIATE_DIR)/protocols/relative-pointer-unstable-v1-server-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/relative-pointer-unstable-v1-client-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/relative-pointer-unstable-v1-protocol.c"
          ],
          "process_outputs_as_sources": 1,
          "action": [
            "sh", "protocols/wayland-scanner.sh", "<(wayland_scanner)",
            "<(wayland_protocols_dir)/unstable/relative-pointer/relative-pointer-unstable-v1.xml",
            "<(INTERMEDIATE_DIR)/protocols/relative-pointer-unstable-v1"
          ],
          "message": "wayland-scanner relative-pointer-unstable-v1"
        },
        {
          "action_name": "wayland_scanner_pointer_constraints_unstable_v1",
          "inputs": ["<(wayland_protocols_dir)/unstable/pointer-constraints/pointer-constraints-unstable-v1.xml"],
          "outputs": [
            "<(INTERMEDIATE_DIR)/protocols/pointer-constraints-unstable-v1-server-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/pointer-constraints-unstable-v1-client-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/pointer-constraints-unstable-v1-protocol.c"
          ],
          "process_outputs_as_sources": 1,
          "action": [
            "sh", "protocols/wayland-scanner.sh", "<(wayland_scanner)",
            "<(wayland_protocols_dir)/unstable/pointer-constraints/pointer-constraints-unstable-v1.xml",
            "<(INTERMEDIATE_DIR)/protocols/pointer-constraints-unstable-v1"
          ],
          "message": "wayland-scanner pointer-constraints-unstable-v1"
        },
        {
          "action_name": "wayland_scanner_fractional_scale_v1",
          "inputs": ["<(wayland_protocols_dir)/staging/fractional-scale/fractional-scale-v1.xml"],
          "outputs": [
            "<(INTERMEDIATE_DIR)/protocols/fractional-scale-v1-server-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/fractional-scale-v1-client-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/fractional-scale-v1-protocol.c"
          ],
          "process_outputs_as_sources": 1,
          "action": [
            "sh", "protocols/wayland-scanner.sh", "<(wayland_scanner)",
            "<(wayland_protocols_dir)/staging/fractional-scale/fractional-scale-v1.xml",
            "<(INTERMEDIATE_DIR)/protocols/fractional-scale-v1"
          ],
          "message": "wayland-scanner fractional-scale-v1"
        },
        {
          "action_name": "wayland_scanner_tablet_unstable_v2",
          "inputs": ["<(wayland_protocols_dir)/unstable/tablet/tablet-unstable-v2.xml"],
          "outputs": [
            "<(INTERMEDIATE_DIR)/protocols/tablet-unstable-v2-server-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/tablet-unstable-v2-client-protocol.h",
            "<(INTERMEDIATE_DIR)/protocols/tablet-unstable-v2-protocol.c"
          ],
          "process_outputs_as_sources": 1,
          "action": [
            "sh", "protocols/wayland-scanner.sh", "<(wayland_scanner)",
            "<(wayland_protocols_dir)/unstable/tablet/tablet-unstable-v2.xml",
            "<(INTERMEDIATE_DIR)/protocols/tablet-unstable-v2"
          ],
          "message": "wayland-scanner tablet-unstable-v2"
        }
      ],
      "conditions": [
        [
          "OS!='linux'",
          { "type": "none" }
        ]
      ]
    }
  ]
}
