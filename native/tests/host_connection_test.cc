// HostConnection on bytes written by hand into the host's end of a socket pair. The bridge reads
// the host's socket itself and hands libwayland-client checked groups of whole messages: a
// wl_display.error is taken by the bridge (with its object, code and text) and nothing of its
// group reaches libwayland; an event that makes an object ends its group, so a later message
// that fails libwayland's read never leaves an object made and undispatched; a watched event
// naming a host object the bridge destroyed gets null where the argument may be null and ends the
// connection where it may not; malformed messages and too many fds end it with a clear text.
// Requests go to the host with their fds, and a host that stops reading blocks the flush without
// losing a byte. The cases with real proxies run under ASan: an object made by libwayland and
// never dispatched would be a leak at exit.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../src/bridge/host_connection.h"
#include "../src/bridge/socket_io.h"
#include "../src/bridge/wayland_headers.h"
#include "check.h"
#include "host_side.h"

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

std::vector<uint8_t> Words(std::vector<uint32_t> words) {
  std::vector<uint8_t> out;
  for (uint32_t word : words) Put32(&out, word);
  return out;
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

bool Send(const Pair& pair, const std::vector<uint8_t>& bytes) {
  return ::write(pair.host.get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
}

constexpr uint32_t kServerId = 0xff000000;  // the host's first object id
constexpr uint32_t kDeviceId = 5;
constexpr uint32_t kSurfaceId = 7;

std::vector<uint8_t> DataOffer(uint32_t offer) {
  return Message(kDeviceId, WL_DATA_DEVICE_DATA_OFFER, Words({offer}));
}
std::vector<uint8_t> Selection(uint32_t offer) {
  return Message(kDeviceId, WL_DATA_DEVICE_SELECTION, Words({offer}));
}
std::vector<uint8_t> Enter(uint32_t offer) {
  // serial, surface (Device's), x, y, offer
  return Message(kDeviceId, WL_DATA_DEVICE_ENTER, Words({1, kSurfaceId, 0, 0, offer}));
}

// The bridge's side (host_side.h): device 5 (kDeviceId), surface 7 (kSurfaceId), the device and
// a pointer watched.
using Device = HostSide;

uint32_t IdOf(wl_data_offer* offer) {
  return wl_proxy_get_id(reinterpret_cast<wl_proxy*>(offer));
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

TEST(HostConnectionNullsASelectionNamingADestroyedOffer) {
  Pair pair;
  CHECK(Connect({}, &pair));
  Device device(pair.connection.get());
  CHECK(Send(pair, DataOffer(kServerId)));
  CHECK(pair.connection->DispatchReadable().ok());
  CHECK_EQ(device.offers.size(), size_t{1});
  device.Destroy(pair.connection.get(), device.offers[0]);
  // A new offer, then a selection of the old one the host sent before it read the destroy:
  // libwayland would fail on the selection ("unknown object"). The selection may be null, and
  // is: the offer is gone for the guest too. The new offer is dispatched.
  CHECK(Send(pair, Join({DataOffer(kServerId + 1), Selection(kServerId)})));
  const NativeStatus status = pair.connection->DispatchReadable();
  CHECK_EQ(status.message(), std::string());
  CHECK_EQ(device.offers.size(), size_t{1});
  CHECK_EQ(IdOf(device.offers[0]), kServerId + 1);
  CHECK_EQ(device.selections, 1);
  CHECK(device.selection == nullptr);
  CHECK_EQ(pair.connection->nulled(), uint64_t{1});
}

TEST(HostConnectionNullsAnEnterNamingADestroyedOffer) {
  Pair pair;
  CHECK(Connect({}, &pair));
  Device device(pair.connection.get());
  CHECK(Send(pair, Join({DataOffer(kServerId), DataOffer(kServerId + 1)})));
  CHECK(pair.connection->DispatchReadable().ok());
  CHECK_EQ(device.offers.size(), size_t{2});
  device.Destroy(pair.connection.get(), device.offers[1]);
  CHECK(Send(pair, Enter(0)));
  CHECK(pair.connection->DispatchReadable().ok());
  CHECK_EQ(pair.connection->nulled(), uint64_t{0});
  CHECK(Send(pair, Join({DataOffer(kServerId + 2), Enter(kServerId + 1)})));
  const NativeStatus status = pair.connection->DispatchReadable();
  CHECK_EQ(status.message(), std::string());
  CHECK_EQ(device.offers.size(), size_t{2});
  CHECK_EQ(pair.connection->nulled(), uint64_t{1});
}

TEST(HostConnectionDispatchesAMadeObjectBeforeAFailingRead) {
  // An offer, then an enter naming a surface this connection never had: libwayland fails that
  // read. The offer ended its group and was dispatched first, so it is not left made and
  // undispatched (LeakSanitizer would report its 80 bytes at exit).
  Pair pair;
  CHECK(Connect({}, &pair));
  Device device(pair.connection.get());
  CHECK(Send(pair, Join({DataOffer(kServerId),
                         Message(kDeviceId, WL_DATA_DEVICE_ENTER, Words({1, 99, 0, 0, 0}))})));
  const NativeStatus status = pair.connection->DispatchReadable();
  CHECK(!status.ok());
  CHECK_EQ(device.offers.size(), size_t{1});
  // Failed in libwayland, it stays failed (the host fuzz target's finding failed-read-then-ok).
  CHECK(Send(pair, DeleteId(3)));
  CHECK(!pair.connection->DispatchReadable().ok());
}

TEST(HostConnectionReadsAnIdTheHostMadeAgain) {
  // The host read the destroy and reused the id for its next offer, named by the selection:
  // libwayland makes the new proxy (the old one is gone) and the selection names it.
  Pair pair;
  CHECK(Connect({}, &pair));
  Device device(pair.connection.get());
  CHECK(Send(pair, DataOffer(kServerId)));
  CHECK(pair.connection->DispatchReadable().ok());
  wl_data_offer* old_offer = device.offers[0];
  device.Destroy(pair.connection.get(), old_offer);
  CHECK(Send(pair, Join({DataOffer(kServerId), Selection(kServerId)})));
  const NativeStatus status = pair.connection->DispatchReadable();
  CHECK_EQ(status.message(), std::string());
  CHECK_EQ(device.offers.size(), size_t{1});
  CHECK_EQ(IdOf(device.offers[0]), kServerId);
  CHECK(device.selection == device.offers[0]);
  // Named again later, it is the new offer: nothing is refused.
  CHECK(Send(pair, Selection(kServerId)));
  CHECK(pair.connection->DispatchReadable().ok());
  CHECK_EQ(device.selections, 2);
}

TEST(HostConnectionLeavesUnwatchedEventsToLibwayland) {
  // An object the bridge does not watch (5 once unwatched, 6 never), and a destroyed id named
  // in a watched event's non-object argument (the serial): none is refused.
  Pair pair;
  CHECK(Connect({}, &pair));
  pair.connection->WatchEvents(kDeviceId, &wl_data_device_interface);
  pair.connection->ServerObjectDestroyed(kServerId);
  CHECK(
      Send(pair, Join({Message(6, WL_DATA_DEVICE_SELECTION, Words({kServerId})),
                       Message(kDeviceId, WL_DATA_DEVICE_ENTER, Words({kServerId, 9, 0, 0, 0}))})));
  CHECK(pair.connection->DispatchReadable().ok());
  pair.connection->UnwatchEvents(kDeviceId);
  CHECK(Send(pair, Selection(kServerId)));
  CHECK(pair.connection->DispatchReadable().ok());
}

namespace {
const wl_interface* kNoTypes[3] = {nullptr, nullptr, nullptr};
// Events with every kind of argument before an object: strings and arrays are skipped by their
// padded length, an fd takes no bytes, a new_id makes the id live again.
const wl_message kTestEvents[] = {
    {"texts", "2sao", kNoTypes},
    {"made", "nh?o", kNoTypes},
    {"maybe", "u?o", kNoTypes},
};
const wl_interface kTestInterface = {"test_watched", 2, 0, nullptr, 3, kTestEvents};

std::vector<uint8_t> Texts(const std::string& text, uint32_t array_bytes, uint32_t object,
                           int64_t length = -1) {
  std::vector<uint8_t> args;
  Put32(&args, static_cast<uint32_t>(length >= 0 ? length : int64_t(text.size() + 1)));
  args.insert(args.end(), text.begin(), text.end());
  args.push_back(0);
  while (args.size() % 4 != 0) args.push_back(0);
  Put32(&args, array_bytes);
  for (uint32_t i = 0; i < (array_bytes + 3) / 4; ++i) Put32(&args, kServerId);
  Put32(&args, object);
  return Message(7, 0, args);
}
}  // namespace

TEST(HostConnectionReadsEveryArgumentKind) {
  for (const std::string text : {"", "a", "abc", "abcd", "named 4278190080"}) {
    for (uint32_t array_bytes : {0u, 3u, 8u}) {
      Pair pair;
      CHECK(Connect({}, &pair));
      pair.connection->WatchEvents(7, &kTestInterface);
      pair.connection->ServerObjectDestroyed(kServerId);
      // The destroyed id in the array only, then as the object.
      CHECK(Send(pair, Texts(text, array_bytes, 0)));
      CHECK(pair.connection->DispatchReadable().ok());
      CHECK(Send(pair, Texts(text, array_bytes, kServerId)));
      const NativeStatus status = pair.connection->DispatchReadable();
      CHECK_EQ(status.code(), -EPROTO);
      CHECK(status.message().find("test_watched@7.texts") != std::string::npos);
    }
  }
  // A new_id (and an fd, which takes no bytes) makes the id live for what follows.
  Pair pair;
  CHECK(Connect({}, &pair));
  pair.connection->WatchEvents(7, &kTestInterface);
  pair.connection->ServerObjectDestroyed(kServerId);
  CHECK(Send(pair, Join({Message(7, 1, Words({kServerId, kServerId})), Texts("", 0, kServerId)})));
  CHECK(pair.connection->DispatchReadable().ok());
  // A nullable argument naming a destroyed id is made null; the connection goes on.
  pair.connection->ServerObjectDestroyed(kServerId + 1);
  CHECK(Send(pair, Message(7, 2, Words({5, kServerId + 1}))));
  CHECK(pair.connection->DispatchReadable().ok());
  CHECK_EQ(pair.connection->nulled(), uint64_t{1});
  // A client id is never taken for destroyed (libwayland keeps a zombie for it).
  pair.connection->ServerObjectDestroyed(9);
  CHECK(Send(pair, Texts("", 0, 9)));
  CHECK(pair.connection->DispatchReadable().ok());
}

TEST(HostConnectionLeavesMalformedWatchedEventsToLibwayland) {
  // A string or array past the message's end, a message cut short: the bridge cannot tell what
  // they name and leaves them to libwayland (which drops events for an unknown object).
  const std::vector<std::vector<uint8_t>> malformed = {
      Texts("abc", 0, kServerId, 400),
      Message(7, 0, Words({4, 0x636261, 0x7fffffff, kServerId})),
      Message(7, 0, Words({4, 0x636261})),
      Message(7, 1, Words({kServerId - 1})),
  };
  for (const auto& bytes : malformed) {
    Pair pair;
    CHECK(Connect({}, &pair));
    pair.connection->WatchEvents(7, &kTestInterface);
    pair.connection->ServerObjectDestroyed(kServerId);
    CHECK(Send(pair, bytes));
    const NativeStatus status = pair.connection->DispatchReadable();
    CHECK_EQ(status.message(), std::string());
  }
}

TEST(HostConnectionRoundtripTakesATrailingError) {
  // The round trip reads through the same checks: an offer and an error on its device in one
  // batch end the connection before libwayland makes the offer (no leak), with the host's text.
  Pair pair;
  CHECK(Connect({}, &pair));
  Device device(pair.connection.get());
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC));
  CHECK(wake.valid());
  CHECK(Send(pair, Join({DataOffer(kServerId), Error(kDeviceId, 2, "bad offer")})));
  const NativeStatus status = pair.connection->Roundtrip(wake.get(), 5000);
  CHECK_EQ(status.code(), -EPROTO);
  HostConnection::ProtocolError error;
  CHECK(pair.connection->GetProtocolError(&error));
  CHECK_EQ(error.id, kDeviceId);
  CHECK_EQ(error.code, 2u);
  CHECK_EQ(error.message, std::string("bad offer"));
  // Taken by the bridge, not read by libwayland (which would know the device's interface).
  CHECK_EQ(error.interface, std::string());
  // The offer ended its group: it was handed on and dispatched before the error was read.
  CHECK_EQ(device.offers.size(), size_t{1});
}

TEST(HostConnectionRoundtripEndsBeforeAnEventNamingADestroyedObject) {
  Pair pair;
  CHECK(Connect({}, &pair));
  pair.connection->WatchEvents(7, &kTestInterface);
  pair.connection->ServerObjectDestroyed(kServerId);
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC));
  CHECK(wake.valid());
  CHECK(Send(pair, Join({DeleteId(7), Texts("", 0, kServerId)})));
  const NativeStatus status = pair.connection->Roundtrip(wake.get(), 5000);
  CHECK_EQ(status.code(), -EPROTO);
  CHECK(status.message().find("test_watched@7.texts names object 4278190080") != std::string::npos);
  // Nothing more is read or written once it ended.
  bool blocked = false;
  CHECK(!pair.connection->Flush(&blocked).ok());
  CHECK(!pair.connection->DispatchReadable().ok());
}

TEST(HostConnectionRefusesMalformedMessages) {
  struct Case {
    std::vector<uint8_t> bytes;
    const char* text;
  };
  const std::vector<Case> cases = {
      {Words({7, (4u << 16) | 0}), "malformed message (object 7, opcode 0, 4 bytes)"},
      {Words({7, (10u << 16) | 1, 0, 0}), "malformed message (object 7, opcode 1, 10 bytes)"},
      {Words({7, (4100u << 16) | 2}), "malformed message (object 7, opcode 2, 4100 bytes)"},
      {Join({DeleteId(3), Words({1, (12u << 16) | 0, 5})}), "malformed wl_display.error"},
  };
  for (const Case& item : cases) {
    Pair pair;
    CHECK(Connect(item.bytes, &pair));
    const NativeStatus status = pair.connection->DispatchReadable();
    CHECK_EQ(status.code(), -EPROTO);
    CHECK(pair.connection->ErrorText().find(item.text) != std::string::npos);
    HostConnection::ProtocolError error;
    CHECK(!pair.connection->GetProtocolError(&error));
  }
}

TEST(HostConnectionRefusesMoreFdsThanLibwaylandTakes) {
  Pair pair;
  CHECK(Connect({}, &pair));
  int pipe_ends[2];
  CHECK(::pipe2(pipe_ends, O_CLOEXEC) == 0);
  UniqueFd read_end(pipe_ends[0]);
  UniqueFd write_end(pipe_ends[1]);
  // 29 fds in one write (the kernel allows 253; libwayland reads 28 at most).
  std::vector<int> fds(29, read_end.get());
  const std::vector<uint8_t> bytes = DeleteId(7);
  struct iovec iov = {const_cast<uint8_t*>(bytes.data()), bytes.size()};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 29)];
  struct msghdr message;
  std::memset(&message, 0, sizeof message);
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&message);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * 29);
  std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * 29);
  CHECK_EQ(::sendmsg(pair.host.get(), &message, 0), static_cast<ssize_t>(bytes.size()));
  const NativeStatus status = pair.connection->DispatchReadable();
  CHECK_EQ(status.code(), -EPROTO);
  CHECK(pair.connection->ErrorText().find("more than 28 fds in one message") != std::string::npos);
}

TEST(HostConnectionHandsOnTheHostsHangUp) {
  // What came before the end of the stream is dispatched; then the connection fails as
  // libwayland fails a closed socket.
  Pair pair;
  CHECK(Connect({}, &pair));
  Device device(pair.connection.get());
  CHECK(Send(pair, Join({DataOffer(kServerId), Selection(kServerId)})));
  pair.host.reset();
  // The socket stays readable until its end was read (the event loop calls again).
  NativeStatus status = pair.connection->DispatchReadable();
  if (status.ok()) status = pair.connection->DispatchReadable();
  CHECK(!status.ok());
  CHECK_EQ(device.offers.size(), size_t{1});
  CHECK_EQ(device.selections, 1);
  CHECK(pair.connection->ErrorText().find("Broken pipe") != std::string::npos);
}

TEST(HostConnectionWritesRequestsWithTheirFds) {
  Pair pair;
  CHECK(Connect({}, &pair));
  wl_registry* registry = wl_display_get_registry(pair.connection->display());
  auto* shm = static_cast<wl_shm*>(wl_registry_bind(registry, 1, &wl_shm_interface, 1));
  UniqueFd memfd(::memfd_create("host-connection-test", MFD_CLOEXEC));
  CHECK(memfd.valid());
  CHECK(::ftruncate(memfd.get(), 4096) == 0);
  wl_shm_pool* pool = wl_shm_create_pool(shm, memfd.get(), 4096);
  bool blocked = true;
  CHECK(pair.connection->Flush(&blocked).ok());
  CHECK(!blocked);
  // get_registry (12 bytes), bind (8 + name 4 + "wl_shm" 4 + 8 + version 4 + id 4 = 32),
  // create_pool (8 + id 4 + size 4 = 16; its fd takes no bytes).
  std::vector<uint8_t> got(256);
  std::vector<int> fds;
  size_t total = 0;
  while (total < 60) {
    const ssize_t read = droidway::bridge::RecvWithFds(pair.host.get(), got.data() + total,
                                                       got.size() - total, &fds);
    CHECK(read > 0);
    total += static_cast<size_t>(read);
  }
  CHECK_EQ(total, size_t{60});
  CHECK_EQ(fds.size(), size_t{1});
  struct stat sent_stat, got_stat;
  CHECK(::fstat(memfd.get(), &sent_stat) == 0);
  CHECK(::fstat(fds[0], &got_stat) == 0);
  CHECK_EQ(sent_stat.st_ino, got_stat.st_ino);
  uint32_t last_header;
  std::memcpy(&last_header, got.data() + 48, 4);
  CHECK_EQ(last_header, (16u << 16) | WL_SHM_CREATE_POOL);
  droidway::bridge::CloseAll(&fds);
  wl_shm_pool_destroy(pool);
  wl_shm_destroy(shm);
  wl_registry_destroy(registry);
}

TEST(HostConnectionFlushBlocksWhileTheHostDoesNotReadAndLosesNothing) {
  Pair pair;
  CHECK(Connect({}, &pair));
  std::vector<wl_callback*> callbacks;
  bool blocked = false;
  // wl_display.sync is 12 bytes; libwayland's own buffer holds 4 KiB, flushed every 100.
  while (!blocked && callbacks.size() < 200000) {
    for (int i = 0; i < 100; ++i) callbacks.push_back(wl_display_sync(pair.connection->display()));
    CHECK(pair.connection->Flush(&blocked).ok());
  }
  CHECK(blocked);
  // The host reads everything now, the bridge flushing whenever its socket has room.
  std::vector<uint8_t> stream;
  std::vector<uint8_t> chunk(65536);
  const size_t expected = callbacks.size() * 12;
  while (stream.size() < expected) {
    const ssize_t got = ::recv(pair.host.get(), chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (got > 0) stream.insert(stream.end(), chunk.data(), chunk.data() + got);
    CHECK(got > 0 || errno == EAGAIN);
    CHECK(pair.connection->Flush(&blocked).ok());
    if (got < 0 && blocked) CHECK(false);  // room on the host socket, yet blocked
  }
  CHECK_EQ(stream.size(), expected);
  CHECK(!blocked);
  // In order: wl_display.sync with the callback ids libwayland gave, one after another.
  for (size_t i = 0; i < callbacks.size(); ++i) {
    uint32_t words[3];
    std::memcpy(words, stream.data() + i * 12, 12);
    CHECK_EQ(words[0], 1u);
    CHECK_EQ(words[1], (12u << 16) | 0);
    CHECK_EQ(words[2], wl_proxy_get_id(reinterpret_cast<wl_proxy*>(callbacks[i])));
  }
  for (wl_callback* callback : callbacks) wl_callback_destroy(callback);
}
