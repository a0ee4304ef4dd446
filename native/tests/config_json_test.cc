// The bridge process's configuration parser (native/bridge-process/config_json.cc): the one
// place the policy's bridge settings cross into the bridge process. Valid lines set every
// field; malformed JSON, unknown keys, wrong types and out-of-range values are refused with a
// reason; ConfigJson writes back what ParseConfig reads.
#include <string>
#include <vector>

#include "../bridge-process/config_json.h"
#include "check.h"

using droidway::bridge::BridgeConfig;
using droidway::bridge::ClipboardMode;
using droidway::bridge_process::ConfigJson;
using droidway::bridge_process::JsonString;
using droidway::bridge_process::ParseConfig;
using droidway::bridge_process::ProcessConfig;

namespace {

const std::string kMinimal =
    R"({"socketPath":"/run/g.sock","hostSocketPath":"/run/h.sock","globals":["wl_compositor"]})";

/** The line with `tail` spliced in before the closing brace. */
std::string With(const std::string& tail) {
  return kMinimal.substr(0, kMinimal.size() - 1) + "," + tail + "}";
}

/** ParseConfig's error for `text`, or "accepted". */
std::string Refusal(const std::string& text) {
  BridgeConfig bridge;
  ProcessConfig process;
  std::string error;
  return ParseConfig(text, &bridge, &process, &error) ? "accepted" : error;
}

}  // namespace

TEST(ConfigMinimalKeepsDefaults) {
  BridgeConfig bridge;
  ProcessConfig process;
  std::string error;
  CHECK(ParseConfig(kMinimal, &bridge, &process, &error));
  CHECK_EQ(error, std::string());
  CHECK_EQ(bridge.socket_path, std::string("/run/g.sock"));
  CHECK_EQ(bridge.host_socket_path, std::string("/run/h.sock"));
  CHECK(bridge.globals == std::vector<std::string>{"wl_compositor"});
  CHECK_EQ(bridge.socket_mode, 0600u);
  CHECK_EQ(bridge.require_sealed, true);
  CHECK_EQ(bridge.limits.max_fds, 256u);
  CHECK_EQ(bridge.poll_max_us, 200u);
  CHECK_EQ(bridge.clipboard.mode, ClipboardMode::kOff);
  CHECK_EQ(process.run_as_uid, int64_t{-1});
  CHECK_EQ(process.memory_limit_mib, 256u);
}

TEST(ConfigSetsEveryField) {
  const std::string line = With(
      R"("socketMode":432,"socketUid":1000,"socketGid":1001,"requireSealed":false,)"
      R"("maxClients":8,"maxClientsPerUid":2,"firstRequestTimeoutMs":1500,"hostTimeoutMs":700,)"
      R"("pollMaxUs":0,)"
      R"("limits":{"maxObjects":100,"maxPools":3,"maxBuffers":4,"maxSurfaces":5,"maxFds":64,)"
      R"("maxRegionRects":6,"maxDamageRects":7},)"
      R"("clipboard":{"mode":"host-to-guest","mimeTypes":["text/plain"],"maxBytes":4096},)"
      R"("runAsUid":1234,"runAsGid":1235,"memoryLimitMiB":64)");
  BridgeConfig bridge;
  ProcessConfig process;
  std::string error;
  CHECK(ParseConfig(line, &bridge, &process, &error));
  CHECK_EQ(error, std::string());
  CHECK_EQ(bridge.socket_mode, 0660u);
  CHECK_EQ(bridge.socket_uid, int64_t{1000});
  CHECK_EQ(bridge.socket_gid, int64_t{1001});
  CHECK_EQ(bridge.require_sealed, false);
  CHECK_EQ(bridge.max_clients, 8u);
  CHECK_EQ(bridge.max_clients_per_uid, 2u);
  CHECK_EQ(bridge.first_request_timeout_ms, 1500);
  CHECK_EQ(bridge.host_timeout_ms, 700);
  CHECK_EQ(bridge.poll_max_us, 0u);
  CHECK_EQ(bridge.limits.max_objects, 100u);
  CHECK_EQ(bridge.limits.max_pools, 3u);
  CHECK_EQ(bridge.limits.max_buffers, 4u);
  CHECK_EQ(bridge.limits.max_surfaces, 5u);
  CHECK_EQ(bridge.limits.max_fds, 64u);
  CHECK_EQ(bridge.limits.max_region_rects, 6u);
  CHECK_EQ(bridge.limits.max_damage_rects, 7u);
  CHECK_EQ(bridge.clipboard.mode, ClipboardMode::kHostToGuest);
  CHECK(bridge.clipboard.mime_types == std::vector<std::string>{"text/plain"});
  CHECK_EQ(bridge.clipboard.max_bytes, uint64_t{4096});
  CHECK_EQ(process.run_as_uid, int64_t{1234});
  CHECK_EQ(process.run_as_gid, int64_t{1235});
  CHECK_EQ(process.memory_limit_mib, 64u);
}

TEST(ConfigJsonRoundTrips) {
  BridgeConfig bridge;
  ProcessConfig process;
  std::string error;
  const std::string line =
      With(R"("socketMode":432,"socketUid":7,"pollMaxUs":1000,"limits":{"maxFds":10},)"
           R"("clipboard":{"mode":"both","mimeTypes":["a/b","c/d"],"maxBytes":1},)"
           R"("runAsUid":5,"runAsGid":6)");
  CHECK(ParseConfig(line, &bridge, &process, &error));
  const std::string written = ConfigJson(bridge, process);
  BridgeConfig again;
  ProcessConfig process_again;
  CHECK(ParseConfig(written, &again, &process_again, &error));
  CHECK_EQ(error, std::string());
  CHECK_EQ(ConfigJson(again, process_again), written);
  CHECK_EQ(again.limits.max_fds, 10u);
  CHECK_EQ(again.poll_max_us, 1000u);
  CHECK_EQ(again.socket_uid, int64_t{7});
  CHECK_EQ(again.socket_gid, int64_t{-1});
  CHECK_EQ(again.clipboard.mode, ClipboardMode::kBoth);
  CHECK_EQ(process_again.run_as_gid, int64_t{6});
}

TEST(ConfigJsonStringEscapesAndReadsBack) {
  CHECK_EQ(JsonString("a\"b\\c"), std::string(R"("a\"b\\c")"));
  CHECK_EQ(JsonString(std::string("\x01\n\x1f\x7f", 4)),
           std::string(R"("\u0001\u000a\u001f\u007f")"));
  // A path with quotes, controls and UTF-8 survives ConfigJson → ParseConfig byte for byte.
  BridgeConfig bridge;
  bridge.socket_path = "/run/\"odd\"\\dir\t\x7f/\xc3\xa9.sock";
  bridge.host_socket_path = "/h";
  bridge.globals = {"wl_shm"};
  BridgeConfig parsed;
  ProcessConfig process;
  std::string error;
  CHECK(ParseConfig(ConfigJson(bridge, ProcessConfig()), &parsed, &process, &error));
  CHECK_EQ(parsed.socket_path, bridge.socket_path);
}

TEST(ConfigRefusesMalformedJson) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "unexpected end at byte 0"},
      {"[]", "configuration must be an object"},
      {"\"x\"", "configuration must be an object"},
      {"{", "expected a key at byte 1"},
      {R"({"socketPath")", "expected : at byte 13"},
      {R"({"socketPath":"/a)", "unterminated string at byte 17"},
      {R"({"socketPath":"/a\)", "unterminated string at byte 18"},
      {R"({"socketPath":"/a"})"
       "x",
       "trailing bytes at byte 19"},
      {R"({"a":1,})", "expected a key at byte 7"},
      {R"({"a":tru})", "unexpected token at byte 5"},
      {R"({"a":null})", "unexpected token at byte 5"},
      {R"({"a":1.5})", "numbers must be integers at byte 6"},
      {R"({"a":1e3})", "numbers must be integers at byte 6"},
      {R"({"a":01})", "leading zero at byte 7"},
      {R"({"a":-})", "bad number at byte 6"},
      {R"({"a":99999999999999999999})", "number too large at byte 18"},
      {R"({"a":"\x"})", "bad escape at byte 8"},
      {R"({"a":"\u00"})", "bad \\u escape at byte 11"},
      {R"({"a":"\u0000"})", "bad \\u escape at byte 12"},
      {R"({"a":"\ud800"})", "bad \\u escape at byte 12"},
      {"{\"a\":\"x\ny\"}", "control character in string at byte 8"},
      {R"({"a":1,"a":2})", "duplicate key a at byte 10"},
      {R"({"a":[[[[[1]]]]]})", "nested too deeply at byte 9"},
  };
  for (const auto& c : cases) CHECK_EQ(Refusal(c.first), c.second);
  CHECK_EQ(Refusal(std::string(64 * 1024 + 1, ' ')),
           std::string("configuration longer than 64 KiB"));
}

TEST(ConfigRefusesTooManyItems) {
  std::string many = "[";
  for (int i = 0; i < 65; ++i) many += (i == 0 ? "" : ",") + std::string("\"wl_shm\"");
  many += "]";
  CHECK_EQ(Refusal(With("\"x\":" + many)).rfind("too many items", 0), size_t{0});
  std::string members = "{";
  for (int i = 0; i < 65; ++i)
    members += (i == 0 ? "" : ",") + ("\"k" + std::to_string(i) + "\":1");
  members += "}";
  CHECK_EQ(Refusal(members).rfind("too many members", 0), size_t{0});
}

TEST(ConfigRefusesUnknownKeysAndWrongTypes) {
  CHECK_EQ(Refusal(With(R"("extra":1)")), std::string("unknown key extra"));
  CHECK_EQ(Refusal(With(R"("limits":{"fds":3})")), std::string("limits.unknown key fds"));
  CHECK_EQ(Refusal(With(R"("clipboard":{"mode":"off","mimeTypes":[],"maxBytes":1,"x":1})")),
           std::string("clipboard.unknown key x"));
  CHECK_EQ(Refusal(With(R"("requireSealed":"yes")")),
           std::string("requireSealed has the wrong type"));
  CHECK_EQ(Refusal(With(R"("maxClients":"8")")), std::string("maxClients has the wrong type"));
  CHECK_EQ(Refusal(With(R"("limits":[])")), std::string("limits has the wrong type"));
  CHECK_EQ(Refusal(R"({"hostSocketPath":"/h","globals":[]})"),
           std::string("socketPath is required"));
  CHECK_EQ(Refusal(R"({"socketPath":"/g","hostSocketPath":"/h"})"),
           std::string("globals is required"));
  CHECK_EQ(Refusal(With(R"("clipboard":{"mode":"off","maxBytes":1})")),
           std::string("clipboard.mimeTypes is required"));
  // An unknown key is named, but never more than 40 bytes of it.
  CHECK_EQ(Refusal(With("\"" + std::string(100, 'k') + "\":1")),
           "unknown key " + std::string(40, 'k'));
}

TEST(ConfigRefusesValuesOutOfRange) {
  CHECK_EQ(Refusal(With(R"("socketMode":511)")), std::string("socketMode must be 0o600 or 0o660"));
  CHECK_EQ(Refusal(With(R"("socketMode":512)")), std::string("socketMode must be from 0 to 511"));
  CHECK_EQ(Refusal(With(R"("socketUid":-1)")),
           std::string("socketUid must be from 0 to 4294967294"));
  CHECK_EQ(Refusal(With(R"("socketUid":4294967295)")),
           std::string("socketUid must be from 0 to 4294967294"));
  CHECK_EQ(Refusal(With(R"("maxClients":0)")), std::string("maxClients must be from 1 to 1024"));
  CHECK_EQ(Refusal(With(R"("maxClients":1025)")), std::string("maxClients must be from 1 to 1024"));
  CHECK_EQ(Refusal(With(R"("limits":{"maxFds":0})")),
           std::string("limits.maxFds must be from 1 to 65536"));
  CHECK_EQ(Refusal(With(R"("limits":{"maxObjects":1048577})")),
           std::string("limits.maxObjects must be from 1 to 1048576"));
  CHECK_EQ(Refusal(With(R"("hostTimeoutMs":600001)")),
           std::string("hostTimeoutMs must be from 1 to 600000"));
  CHECK_EQ(Refusal(With(R"("pollMaxUs":-1)")), std::string("pollMaxUs must be from 0 to 1000"));
  CHECK_EQ(Refusal(With(R"("pollMaxUs":1001)")), std::string("pollMaxUs must be from 0 to 1000"));
  CHECK_EQ(Refusal(With(R"("pollMaxUs":"200")")), std::string("pollMaxUs has the wrong type"));
  CHECK_EQ(Refusal(With(R"("memoryLimitMiB":31)")),
           std::string("memoryLimitMiB must be from 32 to 65536"));
  CHECK_EQ(Refusal(With(R"("runAsUid":0,"runAsGid":0)")),
           std::string("runAsUid must be from 1 to 4294967294"));
  CHECK_EQ(Refusal(With(R"("runAsUid":5)")), std::string("runAsUid and runAsGid go together"));
  CHECK_EQ(Refusal(With(R"("clipboard":{"mode":"off","mimeTypes":[],"maxBytes":0})")),
           std::string("clipboard.maxBytes must be from 1 to 1073741824"));
  CHECK_EQ(Refusal(With(R"("clipboard":{"mode":"off","mimeTypes":[],"maxBytes":1073741825})")),
           std::string("clipboard.maxBytes must be from 1 to 1073741824"));
}

TEST(ConfigRefusesGlobalsAndClipboardEntriesOutsideTheTables) {
  CHECK_EQ(Refusal(R"({"socketPath":"/g","hostSocketPath":"/h","globals":["wl_drm"]})"),
           std::string("global wl_drm cannot be relayed"));
  CHECK_EQ(Refusal(R"({"socketPath":"/g","hostSocketPath":"/h","globals":[1]})"),
           std::string("globals must hold strings"));
  // The clipboard is governed by its own section, never through globals.
  CHECK_EQ(
      Refusal(R"({"socketPath":"/g","hostSocketPath":"/h","globals":["wl_data_device_manager"]})"),
      std::string("global wl_data_device_manager cannot be relayed"));
  CHECK_EQ(Refusal(With(R"("clipboard":{"mode":"sideways","mimeTypes":[],"maxBytes":1})")),
           std::string("clipboard.mode must be off, host-to-guest or both"));
  CHECK_EQ(Refusal(With(R"("clipboard":{"mode":"both","mimeTypes":["text plain"],"maxBytes":1})")),
           std::string("clipboard.mimeTypes must hold printable ASCII strings of 1 to 255 bytes"));
  std::string many = "[";
  for (int i = 0; i < 33; ++i) many += (i == 0 ? "\"t/" : ",\"t/") + std::to_string(i) + "\"";
  many += "]";
  CHECK_EQ(
      Refusal(With("\"clipboard\":{\"mode\":\"both\",\"mimeTypes\":" + many + ",\"maxBytes\":1}")),
      std::string("clipboard.mimeTypes holds at most 32"));
  // Repeated globals are kept once.
  BridgeConfig bridge;
  ProcessConfig process;
  std::string error;
  CHECK(ParseConfig(R"({"socketPath":"/g","hostSocketPath":"/h","globals":["wl_shm","wl_shm"]})",
                    &bridge, &process, &error));
  CHECK(bridge.globals == std::vector<std::string>{"wl_shm"});
}
