// TextSanitize: the edges the byte-level driver test (tests/native/bridge-text-sanitize.test.ts)
// does not name: the bidi table's boundaries, null inputs, and the caps at exactly their length.
#include <cstdint>
#include <string>

#include "../src/bridge/text_sanitize.h"
#include "check.h"

using droidway::bridge::TextSanitize;

TEST(TextBidiControlTableAndItsNeighbours) {
  for (const uint32_t c : {0x061Cu, 0x200Eu, 0x200Fu, 0x202Au, 0x202Bu, 0x202Cu, 0x202Du, 0x202Eu,
                           0x2066u, 0x2067u, 0x2068u, 0x2069u}) {
    CHECK(TextSanitize::IsBidiControl(c));
  }
  for (const uint32_t c : {0x061Bu, 0x061Du, 0x200Du, 0x2010u, 0x2029u, 0x202Fu, 0x2065u, 0x206Au,
                           0x0u, 0x41u, 0xFEFFu, 0x10FFFFu, 0xFFFFFFFFu}) {
    CHECK(!TextSanitize::IsBidiControl(c));
  }
}

TEST(TextNullInputs) {
  CHECK_EQ(TextSanitize::AppId(nullptr), std::string("droidway.unknown"));
  CHECK_EQ(TextSanitize::AppId(""), std::string("droidway.unknown"));
  CHECK_EQ(TextSanitize::AppId("waydroid."), std::string("droidway.unknown"));
  CHECK_EQ(TextSanitize::Title(nullptr), std::string());
  CHECK_EQ(TextSanitize::Title(""), std::string());
}

TEST(TextAppIdCharacterSetAndCap) {
  CHECK_EQ(TextSanitize::AppId("com.example.App_1-2"), std::string("droidway.com.example.App_1-2"));
  CHECK_EQ(TextSanitize::AppId("a/b c;d\te"), std::string("droidway.a_b_c_d_e"));
  // Only a leading waydroid. goes.
  CHECK_EQ(TextSanitize::AppId("x.waydroid.y"), std::string("droidway.x.waydroid.y"));
  const std::string exact(TextSanitize::kMaxAppIdBytes, 'a');
  CHECK_EQ(TextSanitize::AppId(exact.c_str()), "droidway." + exact);
  CHECK_EQ(TextSanitize::AppId((exact + "bcd").c_str()), "droidway." + exact);
}

TEST(TextTitleCapsAtACharacterBoundary) {
  const std::string exact(TextSanitize::kMaxTitleBytes, 'x');
  CHECK_EQ(TextSanitize::Title(exact.c_str()), exact);
  CHECK_EQ(TextSanitize::Title((exact + "y").c_str()), exact);
  // 255 ASCII bytes then a 3-byte character: it does not fit whole, so it is left out.
  const std::string head(TextSanitize::kMaxTitleBytes - 1, 'x');
  CHECK_EQ(TextSanitize::Title((head + "\xe2\x9c\x93").c_str()), head);
  // 254 + 2-byte character fits exactly.
  const std::string shorter(TextSanitize::kMaxTitleBytes - 2, 'x');
  CHECK_EQ(TextSanitize::Title((shorter + "\xc3\xa9").c_str()), shorter + "\xc3\xa9");
}
