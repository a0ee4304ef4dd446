// libFuzzer target: the app_id and title rewriting (native/src/bridge/text_sanitize.cc) on any
// bytes. Beyond the sanitizers, it checks what the host must always get: a `droidway.` app_id
// of allowed bytes within its cap, and a title that is valid UTF-8 within its cap, with no
// control or bidi formatting characters.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "../src/bridge/text_sanitize.h"

using droidway::bridge::TextSanitize;

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

void CheckAppId(const std::string& id) {
  Require(id.compare(0, 9, "droidway.") == 0);
  Require(id.size() > 9 && id.size() <= 9 + TextSanitize::kMaxAppIdBytes);
  for (unsigned char c : id) {
    Require((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '_' || c == '-');
  }
}

void CheckTitle(const std::string& title) {
  Require(title.size() <= TextSanitize::kMaxTitleBytes);
  const auto* s = reinterpret_cast<const unsigned char*>(title.data());
  size_t i = 0;
  while (i < title.size()) {
    uint32_t cp;
    size_t n;
    if (s[i] < 0x80) {
      cp = s[i];
      n = 1;
    } else if ((s[i] & 0xE0) == 0xC0) {
      cp = s[i] & 0x1F;
      n = 2;
    } else if ((s[i] & 0xF0) == 0xE0) {
      cp = s[i] & 0x0F;
      n = 3;
    } else {
      Require((s[i] & 0xF8) == 0xF0);
      cp = s[i] & 0x07;
      n = 4;
    }
    Require(i + n <= title.size());
    for (size_t k = 1; k < n; ++k) {
      Require((s[i + k] & 0xC0) == 0x80);
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    Require(cp >= kMin[n] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF));
    Require(!(cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)));
    Require(!TextSanitize::IsBidiControl(cp));
    i += n;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);  // NUL-terminated by c_str
  CheckAppId(TextSanitize::AppId(text.c_str()));
  CheckTitle(TextSanitize::Title(text.c_str()));
  return 0;
}
