// Rewriting of guest-chosen strings before they reach the host compositor: the app_id becomes
// `droidway.<id>` from a closed character set, the title loses control and bidi
// formatting characters and is capped.
#ifndef DROIDWAY_NATIVE_BRIDGE_TEXT_SANITIZE_H_
#define DROIDWAY_NATIVE_BRIDGE_TEXT_SANITIZE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace droidway {
namespace bridge {

/** Pure string rewriting; stateless. */
class TextSanitize {
 public:
  /** Longest id kept after the `droidway.` prefix, in bytes. */
  static constexpr size_t kMaxAppIdBytes = 128;
  /** Longest title kept, in bytes (cut at a UTF-8 character boundary). */
  static constexpr size_t kMaxTitleBytes = 256;

  /**
   * The host app_id for a guest app_id: a leading `waydroid.` is stripped, every byte outside
   * [A-Za-z0-9._-] becomes `_`, the rest is capped at kMaxAppIdBytes and prefixed with
   * `droidway.`. Bidi formatting characters (IsBidiControl) are dropped before that. An empty
   * id becomes `droidway.unknown`.
   */
  static std::string AppId(const char* guest_app_id);

  /**
   * The host title for a guest title: invalid UTF-8 sequences become U+FFFD, C0/C1 control
   * characters, DEL and bidi formatting characters (IsBidiControl) are removed, and the result
   * is capped at kMaxTitleBytes.
   */
  static std::string Title(const char* guest_title);

  /** U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C: text direction overrides. */
  static bool IsBidiControl(uint32_t code_point);
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_TEXT_SANITIZE_H_
