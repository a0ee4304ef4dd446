{
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
        "src/native_error.cc"
      ],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
      "defines": ["NAPI_VERSION=9", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Werror"],
      "conditions": [
        [
          "OS!='linux'",
          { "type": "none" }
        ]
      ]
    }
  ]
}
