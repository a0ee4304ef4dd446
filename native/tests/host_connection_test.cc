// HostConnection::DispatchReadable on bytes written by hand into the host's end of a socket
// pair: a wl_display.error that ends the waiting bytes is taken by the bridge before libwayland
// reads the batch (so the objects events before it would make are never made), with its object,
// code and text; anything that only looks like one, or is cut short, is left to libwayland.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../src/bridge/host_connection.h"
#include "check.h"

using droidway::NativeStatus;
using droidway::UniqueFd;
using droidway::bridge::HostConnection;
using namespace droidway::test;

namespace {

void Put32(std::vector<uint8_t>* out, uint32_t value) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(&value);
  out->insert(out->end(), bytes, bytes + 4);
}

// A message on `object` with `opcode` and the argument words `args` (the header is computed).
std::vector<uint8_t> Message(uint32_t object, uint16_t opcode, const std::vector<uint8_t>& args) {
  std::vector<uint8_t> out;
  Put32(&out, object);
  Put32(&out, static_cast<uint32_t>((args.size() + 8) << 16) | opcode);
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

// wl_display.error(object, code, text) as libwayland-server writes it; `length` overrides the
// string's length field, `terminate` = false leaves out its NUL (the padding then holds none).
std::vector<uint8_t> Error(uint32_t object, uint32_t code, const std::string& text,
                           int64_t length = -1, bool terminate = true) {
  std::vector<uint8_t> args;
  Put32(&args, object);
  Put32(&args, code);
  const size_t stored = text.size() + (terminate ? 1 : 0);
  Put32(&args, static_cast<uint32_t>(length >= 0 ? length : static_cast<int64_t>(stored)));
  args.insert(args.end(), text.begin(), text.end());
  if (terminate) args.push_back(0);
  while (args.size() % 4 != 0) args.push_back(terminate ? 0 : 'x');
  return Message(1, 0, args);
}

std::vector<uint8_t> DeleteId(uint32_t id) {
  std::vector<uint8_t> args;
  Put32(&args, id);
  return Message(1, 1, args);
}

struct Pair {
  std::unique_ptr<HostConnection> connection;
  UniqueFd host;
};

// A HostConnection whose host end is `pair.host`, with `bytes` waiting on it.
bool Connect(const std::vector<uint8_t>& bytes, Pair* pair) {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) return false;
  pair->host.reset(ends[1]);
  UniqueFd bridge_end(ends[0]);
  const NativeStatus status = HostConnection::Connect("/stub", &pair->connection,
                                                      [&bridge_end](UniqueFd* out) -> NativeStatus {
                                                        *out = std::move(bridge_end);
                                                        return {};
                                                      });
  if (!status.ok()) return false;
  return ::write(pair->host.get(), bytes.data(), bytes.size()) ==
         static_cast<ssize_t>(bytes.size());
}

std::vector<uint8_t> Join(std::vector<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

}  // namespace

TEST(HostConnectionTakesATrailingError) {
  Pair pair;
  CHECK(Connect(Join({DeleteId(7), Error(12, 3, "bad serial")}), &pair));
  const NativeStatus status = pair.connection->DispatchReadable();
  CHECK_EQ(status.code(), -EPROTO);
  HostConnection::ProtocolError error;
  CHECK(pair.connection->GetProtocolError(&error));
  CHECK_EQ(error.id, 12u);
  CHECK_EQ(error.code, 3u);
  CHECK_EQ(error.message, std::string("bad serial"));
  CHECK_EQ(pair.connection->ErrorText(), std::string("host error 3 on unknown@12: bad serial"));
}

TEST(HostConnectionTakesAnErrorWithTextOfEveryPaddingLength) {
  for (const std::string text : {"", "a", "ab", "abc", "abcd", "abcde"}) {
    Pair pair;
    CHECK(Connect(Error(5, 1, text), &pair));
    const NativeStatus status = pair.connection->DispatchReadable();
    CHECK_EQ(status.code(), -EPROTO);
    HostConnection::ProtocolError error;
    CHECK(pair.connection->GetProtocolError(&error));
    CHECK_EQ(error.message, text);
  }
}

TEST(HostConnectionLeavesEventsToLibwayland) {
  // delete_id of an id never made: libwayland logs it and goes on.
  Pair pair;
  CHECK(Connect(Join({DeleteId(7), DeleteId(8)}), &pair));
  const NativeStatus status = pair.connection->DispatchReadable();
  CHECK_EQ(status.message(), std::string());
  HostConnection::ProtocolError error;
  CHECK(!pair.connection->GetProtocolError(&error));
}

TEST(HostConnectionRefusesMalformedErrors) {
  // None is taken (its length, terminator or size does not fit), so libwayland reads it and
  // fails the connection itself. It cannot name object 5 (this connection has no such object),
  // which the bridge's own reading of the error would.
  const std::vector<std::vector<uint8_t>> malformed = {
      Error(5, 1, "no terminator", -1, false),
      Error(5, 1, "length past the end", 40),
      Error(5, 1, "length short", 3),
      Error(5, 1, "", 0),
  };
  for (const auto& bytes : malformed) {
    Pair pair;
    CHECK(Connect(bytes, &pair));
    CHECK(!pair.connection->DispatchReadable().ok());
    HostConnection::ProtocolError error;
    CHECK(!pair.connection->GetProtocolError(&error) || error.id != 5);
  }
}

TEST(HostConnectionTakesOnlyAWholeLastMessage) {
  // An event (on an object this connection does not have: libwayland drops it) whose last 24
  // bytes read as an error: the messages, counted from the first, end with that event.
  std::vector<uint8_t> args;
  for (uint32_t word : {1u, 24u << 16, 5u, 1u, 1u, 0u}) Put32(&args, word);
  Pair pair;
  CHECK(Connect(Join({DeleteId(7), Message(50, 0, args)}), &pair));
  const NativeStatus status = pair.connection->DispatchReadable();
  CHECK_EQ(status.message(), std::string());
  HostConnection::ProtocolError error;
  CHECK(!pair.connection->GetProtocolError(&error));

  // An error with its last word still to come, after whole events.
  std::vector<uint8_t> cut = Join({DeleteId(7), Error(5, 1, "cut short")});
  cut.resize(cut.size() - 4);
  Pair second;
  CHECK(Connect(cut, &second));
  const NativeStatus second_status = second.connection->DispatchReadable();
  CHECK_EQ(second_status.message(), std::string());
  CHECK(!second.connection->GetProtocolError(&error));
}
