// The bridge process's configuration: one JSON line from its parent, read once and strictly (an
// unknown key, a wrong type or an out-of-range number is refused), and written back as the
// effective configuration in the 'ready' event so that the parent can check what runs.
#ifndef DROIDWAY_BRIDGE_PROCESS_CONFIG_JSON_H_
#define DROIDWAY_BRIDGE_PROCESS_CONFIG_JSON_H_

#include <cstdint>
#include <string>

#include "../src/bridge/bridge.h"

namespace droidway {
namespace bridge_process {

/** What the process does around the bridge: who it becomes and how much memory it may use. */
struct ProcessConfig {
  /** Started as root: the uid and gid to become after setup (-1: required when root). */
  int64_t run_as_uid = -1;
  int64_t run_as_gid = -1;
  /** RLIMIT_AS after setup, in MiB. */
  uint32_t memory_limit_mib = 256;
};

/** Parses `text` (the JSON object `BridgeProcessConfig` of native/index.d.ts). */
bool ParseConfig(const std::string& text, bridge::BridgeConfig* bridge, ProcessConfig* process,
                 std::string* error);

/** The effective configuration as a JSON object, with the same keys ParseConfig reads. */
std::string ConfigJson(const bridge::BridgeConfig& bridge, const ProcessConfig& process);

/** `text` as a JSON string literal (quotes included; control and non-ASCII bytes escaped). */
std::string JsonString(const std::string& text);

}  // namespace bridge_process
}  // namespace droidway

#endif  // DROIDWAY_BRIDGE_PROCESS_CONFIG_JSON_H_
