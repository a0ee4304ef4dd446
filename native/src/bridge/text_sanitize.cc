#include "text_sanitize.h"

#include <cstdint>
#include <cstring>

namespace droidway {
namespace bridge {
namespace {

constexpr char kAppIdPrefix[] = "droidway.";
constexpr char kWaydroidPrefix[] = "waydroid.";
constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

bool AppIdByteAllowed(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Length of the valid UTF-8 sequence at `s` (1..4), or 0 when it is invalid (overlong forms,
// surrogates and code points past U+10FFFF included). `s` is NUL-terminated.
size_t Utf8SequenceLength(const unsigned char* s, uint32_t* code_point) {
  const unsigned char lead = s[0];
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  }
  size_t length;
  uint32_t value;
  uint32_t minimum;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    value = lead & 0x1F;
    minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    value = lead & 0x0F;
    minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    value = lead & 0x07;
    minimum = 0x10000;
  } else {
    return 0;
  }
  for (size_t i = 1; i < length; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;  // also stops at the terminating NUL
    value = (value << 6) | (s[i] & 0x3F);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  *code_point = value;
  return length;
}

// Bidirectional formatting characters: embeddings and overrides (U+202A..U+202E), isolates
// (U+2066..U+2069) and the marks (U+200E, U+200F, U+061C). A title carrying them can display
// reversed or reordered text ("exe.txt" shown as "txt.exe") in the host's window list.
bool IsBidi(uint32_t c) {
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E ||
         c == 0x200F || c == 0x061C;
}

}  // namespace

bool TextSanitize::IsBidiControl(uint32_t code_point) {
  return IsBidi(code_point);
}

std::string TextSanitize::AppId(const char* guest_app_id) {
  const char* id = guest_app_id != nullptr ? guest_app_id : "";
  if (std::strncmp(id, kWaydroidPrefix, sizeof kWaydroidPrefix - 1) == 0) {
    id += sizeof kWaydroidPrefix - 1;
  }
  std::string out = kAppIdPrefix;
  size_t kept = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(id);
  while (*p != '\0' && kept < kMaxAppIdBytes) {
    uint32_t code_point = 0;
    const size_t length = Utf8SequenceLength(p, &code_point);
    if (length > 1 && IsBidiControl(code_point)) {
      p += length;  // dropped, not replaced: it was never visible
      continue;
    }
    out.push_back(AppIdByteAllowed(*p) ? static_cast<char>(*p) : '_');
    ++p;
    ++kept;
  }
  if (kept == 0) out += "unknown";
  return out;
}

std::string TextSanitize::Title(const char* guest_title) {
  std::string out;
  if (guest_title == nullptr) return out;
  const auto* p = reinterpret_cast<const unsigned char*>(guest_title);
  while (*p != '\0') {
    uint32_t code_point = 0;
    const size_t length = Utf8SequenceLength(p, &code_point);
    const char* piece;
    size_t piece_length;
    if (length == 0) {
      piece = kReplacement;
      piece_length = sizeof kReplacement - 1;
      p += 1;
    } else {
      const bool control = code_point < 0x20 || code_point == 0x7F ||
                           (code_point >= 0x80 && code_point < 0xA0) || IsBidiControl(code_point);
      piece = reinterpret_cast<const char*>(p);
      piece_length = control ? 0 : length;
      p += length;
    }
    if (out.size() + piece_length > kMaxTitleBytes) break;
    out.append(piece, piece_length);
  }
  return out;
}

}  // namespace bridge
}  // namespace droidway
