// The clipboard's policy names and MIME allow-list entries (data_device_relay.h): what a mode is
// called, and which strings may stand in the allow-list at all.
#include <string>

#include "../src/bridge/data_device_relay.h"
#include "check.h"

using droidway::bridge::ClipboardMode;
using droidway::bridge::ClipboardModeName;
using droidway::bridge::kClipboardMaxMimeLength;
using droidway::bridge::ParseClipboardMode;
using droidway::bridge::ValidClipboardMime;

TEST(ClipboardModeNamesRoundTrip) {
  for (const ClipboardMode mode :
       {ClipboardMode::kOff, ClipboardMode::kHostToGuest, ClipboardMode::kBoth}) {
    ClipboardMode parsed = mode == ClipboardMode::kOff ? ClipboardMode::kBoth : ClipboardMode::kOff;
    CHECK(ParseClipboardMode(ClipboardModeName(mode), &parsed));
    CHECK_EQ(parsed, mode);
  }
  CHECK_EQ(std::string(ClipboardModeName(ClipboardMode::kHostToGuest)),
           std::string("host-to-guest"));
}

TEST(ClipboardModeRefusesOtherNames) {
  for (const char* name : {"", "Off", "BOTH", "guest-to-host", "both ", " off", "host_to_guest"}) {
    ClipboardMode mode = ClipboardMode::kHostToGuest;
    CHECK(!ParseClipboardMode(name, &mode));
    CHECK_EQ(mode, ClipboardMode::kHostToGuest);  // left as it was
  }
  // A name with a NUL inside is not "off".
  ClipboardMode mode = ClipboardMode::kBoth;
  CHECK(!ParseClipboardMode(std::string("off\0x", 5), &mode));
}

TEST(ClipboardMimeAllowListEntries) {
  CHECK(ValidClipboardMime("text/plain;charset=utf-8"));
  CHECK(ValidClipboardMime("UTF8_STRING"));
  CHECK(ValidClipboardMime("!"));
  CHECK(ValidClipboardMime("~"));
  CHECK(ValidClipboardMime(std::string(kClipboardMaxMimeLength, 'a')));
  CHECK(!ValidClipboardMime(std::string(kClipboardMaxMimeLength + 1, 'a')));
  CHECK(!ValidClipboardMime(""));
  for (const std::string& bad :
       {std::string("text/plain; charset=utf-8"), std::string("a\tb"), std::string("a\nb"),
        std::string("a\x7f"), std::string("text/\xc3\xa9"), std::string("a\0b", 3)}) {
    CHECK(!ValidClipboardMime(bad));
  }
}
