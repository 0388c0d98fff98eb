{
  "targets": [
    {
      "target_name": "equigate_native",
      "sources": [
        "native/addon.cc",
        "native/blake2b.cc",
        "native/blake2b_lanes.cc",
        "native/sha256.cc",
        "native/beamhash3.cc",
        "native/pow.cc",
        "native/nano_work.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-Wall", "-Wextra"],
      "cflags": ["-O3"]
    }
  ]
}
