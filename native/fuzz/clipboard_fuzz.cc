// libFuzzer target: the bridge's clipboard relay (native/src/bridge/data_device_relay.cc) driven
// from both sides. Three real Bridges run in the process, one per `bridge.clipboard` mode (off,
// host-to-guest, both; allow-list kAllowed, a small size cap each), on the stub host, which offers
// wl_data_device_manager and whose side of the clipboard the input drives too.
//
// Why a target of its own rather than a mode byte of bridge_request: the relay's paths need the
// host to act (keyboard focus, data offers with their types, selections, data_source.send with
// an fd, bytes written into the pipes) between the guest's requests, and the guest to learn the
// ids of the offers the bridge creates. That takes a script of steps with the harness keeping
// the object ids and syncing both sides, not a flat message stream; and bridge_request keeps its
// own input format, seeds and figures (its bridge still runs with the clipboard off, which is
// where the stub host's wl_data_device_manager must stay unoffered).
//
// Input: byte 0 picks the mode; then up to kMaxSteps steps, each an op byte and its operands
// (missing operand bytes read as 0). Guest steps write requests on objects the harness tracks (ops
// picking one by an index byte, modulo how many there are; a step whose object does not exist is
// skipped); kRaw sends any opcode with any argument bytes to any of them. Host steps run on the
// stub host's thread after a guest wl_display.sync (relayed to the host by the bridge) has made
// sure the host has every request sent so far; but a host offer whose count byte has bit 0x80
// is "in flight": it crosses the guest's unsynced requests on the wire (see WaitForBridgeBytes),
// and with bit 0x40 the host sends two offers in one flush. fds: a kind byte picks from the fd menu
// (fd_menu.h), or a pipe's write end whose read end the harness keeps (and reads), or one whose
// reader left.
//
// Asserted on every input, besides sanitizers and no fd outliving the connection:
// - the guest is never offered a type outside the allow-list, and with mode off never sees
//   wl_data_device_manager;
// - the host never gets a data_source.offer of a type outside the allow-list, a set_selection
//   with a source unless the mode is both, a start_drag, or a receive with anything but a
//   pipe's write end;
// - a guest's data_offer.receive with anything but a pipe's write end ends the guest;
// - no transfer carries more than the cap, either way;
// - the bridge answers each sync (or drops the guest) within 10 s, and closes the host
//   connection it made for the guest once the guest has left.
//
// Leaks: the bridge frees on its own thread and keeps the stats of its last clients, so many
// inputs end with more mallocs than frees; libFuzzer then reruns them with a leak check, and
// turns that off after 1,000 of them (LeakSanitizer still checks the whole run at exit).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include <sanitizer/lsan_interface.h>

#include "../src/bridge/bridge.h"
#include "../src/bridge/wayland_headers.h"
#include "fd_menu.h"
#include "fuzz_input.h"
#include "guest_harness.h"
#include "stub_host.h"

namespace fuzz = droidway::fuzz;
using droidway::bridge::ClipboardMode;

namespace {

constexpr int kSyncTimeoutMs = 10000;
// Steps and syncs one input may take (past them: steps are not run, syncs are skipped): a sync
// is a round trip through three threads, the bulk of an input's cost.
constexpr size_t kMaxSteps = 96;
constexpr int kMaxSyncs = 24;
constexpr size_t kMaxTracked = 32;
constexpr size_t kMaxRawArgs = 512;
constexpr uint64_t kCaps[] = {4096, 4096, 1000};  // max_bytes per mode (off, host-to-guest, both)
const char* const kAllowed[] = {"text/plain;charset=utf-8", "text/plain", "UTF8_STRING", "STRING"};
// Types a step names by index; an index byte of 0xf0 and above takes a raw string instead.
const char* const kMimes[] = {"text/plain;charset=utf-8",
                              "text/plain",
                              "UTF8_STRING",
                              "STRING",
                              "image/png",
                              "text/html",
                              "",
                              "TEXT\x01",
                              "text/plain ",
                              "text/plain;charset=utf-8;charset=utf-8"};
constexpr int kFdKinds = fuzz::kFdMenuSize + 2;  // the menu, then kept pipe, then reader gone

enum Op : uint8_t {
  // guest
  kBind,  // which (compositor, seat, data device manager), version
  kCreateSurface,
  kGetKeyboard,    // seat index
  kGetDataDevice,  // seat index
  kCreateSource,
  kSourceOffer,      // source, mime
  kSetSelection,     // device, source (0xff: null), serial
  kOfferReceive,     // offer, mime, fd kind
  kOfferAccept,      // offer, serial, mime (0xff: null)
  kOfferRequest,     // offer, opcode (destroy, finish, set_actions), actions, preferred
  kSourceRequest,    // source, opcode (destroy, set_actions), actions
  kDeviceRelease,    // device
  kStartDrag,        // device, source, surface, serial
  kRaw,              // object kind, index, opcode, length, bytes
  kGuestWrite,       // length (u16), close: into the oldest fd the bridge gave the guest
  kKeyboardRelease,  // keyboard
  kSync,
  // host
  kHostEnter,        // keyboard, surface
  kHostLeave,        // keyboard, surface
  kHostOffer,        // device, count (+0x40: twice, +0x80: in flight), mimes
  kHostSelection,    // device, offer (0xff: null, 0xfe: crossing a destroy, else the newest)
  kHostFeed,         // length (u16), close: into the oldest pipe a receive brought the host
  kHostSend,         // source, mime, fd kind
  kHostSourceEvent,  // source, which (target, cancelled, drop performed, finished, action)
  kHostDnd,          // device, which (enter, leave, motion, drop), surface, offer (odd: null)
  kHostDrain,        // close: reads the oldest kept read end of a send pipe
  kHostError,        // device, count, code: offers on a device, then an error, in one flush
  kOpCount,
};

// DROIDWAY_FUZZ_TRACE=1: what each side gets, on stderr (to check what a seed reaches).
const bool g_trace = std::getenv("DROIDWAY_FUZZ_TRACE") != nullptr;
// DROIDWAY_FUZZ_LEAK_CHECK=1: a LeakSanitizer check after every input (much slower), which ends
// the run at the input that leaked (or the one after it: the bridge thread may still be closing
// the host connection), so a leak a long -detect_leaks=0 run reports at exit can be found.
const bool g_leak_check = std::getenv("DROIDWAY_FUZZ_LEAK_CHECK") != nullptr;

// A pipe's read end the harness or the host keeps, with the bytes read from it so far.
struct ReadEnd {
  int fd;
  uint64_t total;
};

void ReadCapped(ReadEnd* end, uint64_t cap, const char* what) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(end->fd, buffer, sizeof buffer);
    if (n <= 0) break;
    end->total += static_cast<uint64_t>(n);
  }
  if (g_trace)
    std::fprintf(stderr, "pipe   %d: %llu bytes\n", end->fd, (unsigned long long)end->total);
  if (end->total > cap) fuzz::Die(what);
}

bool Allowed(const char* mime) {
  if (mime == nullptr) return false;
  for (const char* allowed : kAllowed) {
    if (std::strcmp(mime, allowed) == 0) return true;
  }
  return false;
}

bool IsPipeWriteEnd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return false;
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_ACCMODE) == O_WRONLY;
}

// An fd of `kind`; a kept pipe's read end goes to `kept`. -1 if it could not be made.
int MakeFd(uint8_t kind, std::vector<ReadEnd>* kept) {
  kind %= kFdKinds;
  if (kind < fuzz::kFdMenuSize) return fuzz::MakeMenuFd(kind);
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  if (kind == fuzz::kFdMenuSize && kept->size() < kMaxTracked) {
    kept->push_back({ends[0], 0});
  } else {
    ::close(ends[0]);
  }
  return ends[1];
}

// ---- The host side (all of it on the stub host's thread) ----

std::atomic<int> g_mode{0};

// What the host knows of one bridge connection (a client of the stub host).
struct HostClient {
  wl_client* client = nullptr;
  wl_listener destroyed{};
  std::vector<uint32_t> keyboards, surfaces, devices, sources, offers, seats;
  std::deque<int> receive_fds;     // the bridge's pipes from data_offer.receive, to feed
  std::vector<ReadEnd> read_ends;  // read ends of the pipes the host gave in data_source.send
  uint64_t cap = 0;                // the cap of the bridge this connection comes from
  uint32_t serial = 100;
};

HostClient* g_host_client = nullptr;  // the newest connection: the current input's
std::atomic<int> g_host_clients{0};   // connections the stub host has now

void HostClientDestroyed(wl_listener* listener, void*) {
  HostClient* host;
  host = wl_container_of(listener, host, destroyed);
  for (int fd : host->receive_fds) ::close(fd);
  for (ReadEnd& end : host->read_ends) {
    ReadCapped(&end, host->cap, "a guest-to-host transfer carried more than the cap");
    ::close(end.fd);
  }
  if (g_host_client == host) g_host_client = nullptr;
  delete host;
  --g_host_clients;
}

void OnHostClient(wl_client* client) {
  auto* host = new HostClient;
  host->client = client;
  host->cap = kCaps[g_mode.load()];
  host->destroyed.notify = HostClientDestroyed;
  wl_client_add_destroy_listener(client, &host->destroyed);
  g_host_client = host;
  ++g_host_clients;
}

int g_idle_host_clients = 0;  // the bridges' own connections

// Waits until the bridge has closed the host connection it made for the input's guest, and the
// host has seen it: every object of the input is then freed (libFuzzer runs a leak check after
// any input whose mallocs and frees do not match, which would slow the run tenfold).
void WaitForHostIdle() {
  for (int waited_ms = 0; g_host_clients.load() > g_idle_host_clients; ++waited_ms) {
    if (waited_ms == 10000) fuzz::Die("the bridge kept a host connection after its guest left");
    ::usleep(waited_ms < 10 ? 50 : 1000);
  }
}

HostClient* HostOf(wl_resource* resource) {
  wl_listener* listener =
      wl_client_get_destroy_listener(wl_resource_get_client(resource), HostClientDestroyed);
  if (listener == nullptr) return nullptr;
  HostClient* host;
  host = wl_container_of(listener, host, destroyed);
  return host;
}

void Track(std::vector<uint32_t>* list, uint32_t id) {
  if (list->size() < kMaxTracked) list->push_back(id);
}

bool Is(wl_resource* resource, const wl_interface* interface) {
  return std::strcmp(wl_resource_get_class(resource), interface->name) == 0;
}

// The resource `list[index % size]` of `interface`, if it still exists.
wl_resource* Pick(HostClient* host, const std::vector<uint32_t>& list, uint8_t index,
                  const wl_interface* interface) {
  if (list.empty()) return nullptr;
  wl_resource* resource = wl_client_get_object(host->client, list[index % list.size()]);
  return resource != nullptr && Is(resource, interface) ? resource : nullptr;
}

// The newest offer the host made, if it still has it: a selection or a drag's enter names only
// that one, as compositors do (they introduce a new offer for each). An older one may be an
// offer whose destroy from the guest the host has not read yet, while libwayland-client (the
// bridge's side) freed its id when the destroy was sent: naming it would be "unknown object" to
// libwayland, and the bridge makes it name no offer (see tests/fuzz/README.md); the steps that
// name an older offer on purpose are below.
wl_resource* NewestOffer(HostClient* host) {
  if (host->offers.empty()) return nullptr;
  wl_resource* offer = wl_client_get_object(host->client, host->offers.back());
  return offer != nullptr && Is(offer, &wl_data_offer_interface) ? offer : nullptr;
}

// Checks what the bridge forwards and keeps what the host needs later.
bool OnHostRequest(wl_resource* target, const wl_message* message, wl_argument* args) {
  HostClient* host = HostOf(target);
  if (g_trace)
    std::fprintf(stderr, "host   <- %s.%s\n", wl_resource_get_class(target), message->name);
  const auto mode = static_cast<ClipboardMode>(g_mode.load());
  const std::string name = message->name;
  if (Is(target, &wl_data_source_interface) && name == "offer" && !Allowed(args[0].s)) {
    fuzz::Die("the host was offered a type outside the allow-list");
  }
  if (Is(target, &wl_data_device_interface) && name == "start_drag") {
    fuzz::Die("a guest's drag reached the host");
  }
  if (Is(target, &wl_data_device_interface) && name == "set_selection" && args[0].o != nullptr &&
      mode != ClipboardMode::kBoth) {
    fuzz::Die("a guest's selection reached the host while the mode is not both");
  }
  if (Is(target, &wl_data_device_manager_interface) && mode == ClipboardMode::kOff) {
    fuzz::Die("the host got a data device request while the mode is off");
  }
  if (Is(target, &wl_data_offer_interface) && name == "receive") {
    if (!IsPipeWriteEnd(args[1].h)) fuzz::Die("the host got a receive without a pipe");
    if (host != nullptr && host->receive_fds.size() < kMaxTracked) {
      host->receive_fds.push_back(args[1].h);
      return true;
    }
    return false;
  }
  if (host == nullptr) return false;
  int i = 0;
  for (const char* p = message->signature; *p != '\0'; ++p) {
    if (*p == '?' || (*p >= '0' && *p <= '9')) continue;
    if (*p == 'n' && message->types[i] != nullptr) {
      const wl_interface* made = message->types[i];
      if (made == &wl_keyboard_interface) Track(&host->keyboards, args[i].n);
      if (made == &wl_surface_interface) Track(&host->surfaces, args[i].n);
      if (made == &wl_data_device_interface) Track(&host->devices, args[i].n);
      if (made == &wl_data_source_interface) Track(&host->sources, args[i].n);
    }
    ++i;
  }
  return false;
}

// An offer "in flight" (count byte 0x80): the guest's last requests are flushed without a
// sync once the host runs the step (RunOnStubHostMeanwhile), and the host sends its event once
// they have reached its socket but before it reads them, as a compositor does whose event
// crosses a guest's request on the wire (a data_offer on a data device the guest has just
// released). Waits at most 20 ms: a request the bridge keeps to itself never arrives (and, as
// half the count bytes the fuzzer makes have the bit, a longer wait would cost most of the run:
// 200 ms ran at a quarter of the speed); the saved leak inputs reproduce with it.
void WaitForBridgeBytes(HostClient* host) {
  pollfd p{wl_client_get_fd(host->client), POLLIN, 0};
  (void)::poll(&p, 1, 20);
}

// Offer byte 0xfe: a new offer, then a selection naming the host's oldest offer, in one flush,
// sent "in flight" (see WaitForBridgeBytes) when the guest has unsynced requests: a selection
// crossing the guest's destroy of that offer, which the bridge has forwarded and libwayland-client
// has unmapped, read with an event that made an object (HostConnection::TakeDeadReference makes
// it name no offer; the regression input crashes/clipboard/leak-selection-crosses-destroy, which
// leaked before). Compositors name only a
// new offer, but nothing in the protocol stops one naming an older offer it still has.
void SelectionCrossingDestroy(HostClient* host, wl_resource* device, bool in_flight) {
  if (in_flight) WaitForBridgeBytes(host);
  wl_resource* oldest = nullptr;
  for (uint32_t id : host->offers) {
    wl_resource* offer = wl_client_get_object(host->client, id);
    if (offer != nullptr && Is(offer, &wl_data_offer_interface)) {
      oldest = offer;
      break;
    }
  }
  if (oldest == nullptr || host->offers.size() >= kMaxTracked) return;
  wl_resource* fresh = fuzz::CreateStubResource(host->client, &wl_data_offer_interface,
                                                wl_resource_get_version(device), 0);
  if (fresh == nullptr) return;
  Track(&host->offers, wl_resource_get_id(fresh));
  wl_data_device_send_data_offer(device, fresh);
  wl_data_offer_send_offer(fresh, kAllowed[0]);
  wl_data_device_send_selection(device, oldest);
}

void HostStep(uint8_t op, const uint8_t* a, const std::vector<uint8_t>& raw_mime) {
  HostClient* host = g_host_client;
  if (host == nullptr) return;
  const uint32_t serial = ++host->serial;
  auto mime = [&](uint8_t index) -> std::string {
    if (index >= 0xf0) return std::string(raw_mime.begin(), raw_mime.end());
    return kMimes[index % (sizeof kMimes / sizeof kMimes[0])];
  };
  switch (op) {
    case kHostEnter:
    case kHostLeave: {
      wl_resource* keyboard = Pick(host, host->keyboards, a[0], &wl_keyboard_interface);
      wl_resource* surface = Pick(host, host->surfaces, a[1], &wl_surface_interface);
      if (keyboard == nullptr || surface == nullptr) return;
      if (op == kHostEnter) {
        wl_array keys;
        wl_array_init(&keys);
        wl_keyboard_send_enter(keyboard, serial, surface, &keys);
      } else {
        wl_keyboard_send_leave(keyboard, serial, surface);
      }
      return;
    }
    case kHostOffer: {
      if ((a[1] & 0x80) != 0) WaitForBridgeBytes(host);
      wl_resource* device = Pick(host, host->devices, a[0], &wl_data_device_interface);
      // With 0x40 the host sends two offers in one flush, so the bridge reads them at once.
      for (int n = (a[1] & 0x40) != 0 ? 2 : 1; n > 0; --n) {
        if (device == nullptr || host->offers.size() >= kMaxTracked) return;
        wl_resource* offer = fuzz::CreateStubResource(host->client, &wl_data_offer_interface,
                                                      wl_resource_get_version(device), 0);
        if (offer == nullptr) return;
        Track(&host->offers, wl_resource_get_id(offer));
        wl_data_device_send_data_offer(device, offer);
        for (int i = 0; i < a[1] % 8; ++i) {
          wl_data_offer_send_offer(offer, mime(a[2 + i]).c_str());
        }
      }
      return;
    }
    case kHostSelection: {
      wl_resource* device = Pick(host, host->devices, a[0], &wl_data_device_interface);
      if (device == nullptr) return;
      if (a[1] == 0xfe) return SelectionCrossingDestroy(host, device, a[2] != 0);
      wl_resource* offer = a[1] == 0xff ? nullptr : NewestOffer(host);
      if (a[1] != 0xff && offer == nullptr) return;
      wl_data_device_send_selection(device, offer);
      return;
    }
    case kHostFeed: {
      if (host->receive_fds.empty()) return;
      const size_t length = a[0] | (a[1] << 8);
      std::vector<char> bytes(length, 'h');
      if (length > 0 && ::write(host->receive_fds.front(), bytes.data(), length) < 0) {
        // EAGAIN (full) or EPIPE (the bridge ended the transfer): both are fine here.
      }
      if ((a[2] & 1) != 0) {
        ::close(host->receive_fds.front());
        host->receive_fds.pop_front();
      }
      return;
    }
    case kHostSend: {
      wl_resource* source = Pick(host, host->sources, a[0], &wl_data_source_interface);
      if (source == nullptr) return;
      const int fd = MakeFd(a[2], &host->read_ends);
      if (fd < 0) return;
      wl_data_source_send_send(source, mime(a[1]).c_str(), fd);
      ::close(fd);
      return;
    }
    case kHostSourceEvent: {
      wl_resource* source = Pick(host, host->sources, a[0], &wl_data_source_interface);
      if (source == nullptr) return;
      const bool v3 = wl_resource_get_version(source) >= 3;
      switch (a[1] % 5) {
        case 0:
          wl_data_source_send_target(source, a[2] == 0xff ? nullptr : mime(a[2]).c_str());
          break;
        case 1:
          wl_data_source_send_cancelled(source);
          break;
        case 2:
          if (v3) wl_data_source_send_dnd_drop_performed(source);
          break;
        case 3:
          if (v3) wl_data_source_send_dnd_finished(source);
          break;
        default:
          if (v3) wl_data_source_send_action(source, a[2] & 7);
          break;
      }
      return;
    }
    case kHostDnd: {
      wl_resource* device = Pick(host, host->devices, a[0], &wl_data_device_interface);
      if (device == nullptr) return;
      switch (a[1] % 4) {
        case 0: {
          wl_resource* surface = Pick(host, host->surfaces, a[2], &wl_surface_interface);
          wl_resource* offer = (a[3] & 1) != 0 ? nullptr : NewestOffer(host);
          if (surface == nullptr) return;
          wl_data_device_send_enter(device, serial, surface, wl_fixed_from_int(1),
                                    wl_fixed_from_int(2), offer);
          break;
        }
        case 1:
          wl_data_device_send_leave(device);
          break;
        case 2:
          wl_data_device_send_motion(device, serial, wl_fixed_from_int(a[2]),
                                     wl_fixed_from_int(a[3]));
          break;
        default:
          wl_data_device_send_drop(device);
          break;
      }
      return;
    }
    case kHostDrain: {
      if (host->read_ends.empty()) return;
      ReadCapped(&host->read_ends.front(), host->cap,
                 "a guest-to-host transfer carried more than the cap");
      if ((a[0] & 1) != 0) {
        ::close(host->read_ends.front().fd);
        host->read_ends.erase(host->read_ends.begin());
      }
      return;
    }
    case kHostError: {
      // Offers (objects the bridge's libwayland makes when it reads them) and a protocol error
      // on the device, in one flush: the bridge reads them at once, and libwayland dispatches
      // nothing after the error, so the proxies of those offers must not be made.
      wl_resource* device = Pick(host, host->devices, a[0], &wl_data_device_interface);
      if (device == nullptr) return;
      for (int n = a[1] % 4; n > 0 && host->offers.size() < kMaxTracked; --n) {
        wl_resource* offer = fuzz::CreateStubResource(host->client, &wl_data_offer_interface,
                                                      wl_resource_get_version(device), 0);
        if (offer == nullptr) break;
        Track(&host->offers, wl_resource_get_id(offer));
        wl_data_device_send_data_offer(device, offer);
        wl_data_offer_send_offer(offer, kAllowed[n % 4]);
      }
      wl_resource_post_error(device, a[2], "stub host error %u", a[2]);
      return;
    }
    default:
      return;
  }
}

// ---- The guest side (the fuzzer's thread) ----

std::string g_sockets[3];
int g_baseline_fds = -1;

struct Guest {
  int fd = -1;
  int mode = 0;
  bool dead = false;
  uint32_t next_id = 3;  // 1: wl_display, 2: the registry
  std::vector<uint8_t> out;
  std::vector<int> out_fds;
  int syncs = 0;
  bool pending = false;     // requests sent since the last sync
  bool host_acted = false;  // host steps since the last sync
  // A receive with a non-pipe fd on a live offer went out since the last sync.
  bool expect_end = false;
  std::vector<uint8_t> in;
  std::deque<int> raw_fds;  // fds read, not yet matched with their events
  std::deque<int> got_fds;  // the pipes of data_source.send events, for the guest to write into
  struct Global {
    uint32_t name = 0;
    uint32_t version = 0;
  } compositor, seat, manager;
  uint32_t compositor_id = 0;
  uint32_t manager_id = 0;
  uint32_t manager_version = 0;
  std::vector<uint32_t> surfaces, seats, keyboards, devices, sources, offers;
  std::vector<ReadEnd> read_ends;  // read ends of the pipes given in receive
};

void Put32(std::vector<uint8_t>* out, uint32_t v) {
  const auto* b = reinterpret_cast<const uint8_t*>(&v);
  out->insert(out->end(), b, b + 4);
}

void PutString(std::vector<uint8_t>* out, const std::string& s) {
  Put32(out, static_cast<uint32_t>(s.size() + 1));
  out->insert(out->end(), s.begin(), s.end());
  out->push_back(0);
  while (out->size() % 4 != 0) out->push_back(0);
}

void Request(Guest* g, uint32_t object, uint16_t opcode, const std::vector<uint8_t>& args,
             int fd = -1) {
  Put32(&g->out, object);
  Put32(&g->out, static_cast<uint32_t>((args.size() + 8) << 16) | opcode);
  g->out.insert(g->out.end(), args.begin(), args.end());
  if (fd >= 0) g->out_fds.push_back(fd);
  g->pending = true;
}

void Flush(Guest* g) {
  if (!g->dead && (!g->out.empty() || !g->out_fds.empty())) {
    if (!fuzz::SendWithFds(g->fd, g->out, g->out_fds)) g->dead = true;
  }
  for (int fd : g->out_fds) ::close(fd);
  g->out.clear();
  g->out_fds.clear();
}

bool Contains(const std::vector<uint32_t>& list, uint32_t id) {
  return std::find(list.begin(), list.end(), id) != list.end();
}

std::string ArgString(const uint8_t* args, size_t length) {
  if (length < 4) return {};
  uint32_t size;
  std::memcpy(&size, args, 4);
  if (size == 0 || size > length - 4) return {};
  return std::string(reinterpret_cast<const char*>(args + 4), size - 1);
}

// Handles the events read so far; true when the callback `done_id` is done.
bool ParseEvents(Guest* g, uint32_t done_id) {
  bool done = false;
  size_t pos = 0;
  while (g->in.size() - pos >= 8) {
    uint32_t object;
    uint32_t word;
    std::memcpy(&object, g->in.data() + pos, 4);
    std::memcpy(&word, g->in.data() + pos + 4, 4);
    const size_t size = word >> 16;
    const uint16_t opcode = word & 0xffff;
    if (size < 8 || size % 4 != 0) fuzz::Die("the bridge sent a malformed message");
    if (g->in.size() - pos < size) break;
    const uint8_t* args = g->in.data() + pos + 8;
    const size_t length = size - 8;
    if (g_trace) std::fprintf(stderr, "guest  <- %u.%u (%zu bytes)\n", object, opcode, length);
    uint32_t first = 0;
    if (length >= 4) std::memcpy(&first, args, 4);
    if (object == 2 && opcode == 0 && length >= 8) {  // wl_registry.global
      const std::string interface = ArgString(args + 4, length - 4);
      const size_t skip = 4 + 4 + ((interface.size() + 1 + 3) & ~size_t{3});
      uint32_t version = 0;
      if (length >= skip + 4) std::memcpy(&version, args + skip, 4);
      Guest::Global* global = interface == "wl_compositor"            ? &g->compositor
                              : interface == "wl_seat"                ? &g->seat
                              : interface == "wl_data_device_manager" ? &g->manager
                                                                      : nullptr;
      if (global != nullptr) *global = {first, version};
      if (global == &g->manager && g->mode == static_cast<int>(ClipboardMode::kOff)) {
        fuzz::Die("wl_data_device_manager offered with the clipboard off");
      }
    } else if (Contains(g->keyboards, object) && opcode == WL_KEYBOARD_KEYMAP) {
      if (!g->raw_fds.empty()) ::close(g->raw_fds.front()), g->raw_fds.pop_front();
    } else if (Contains(g->sources, object) && opcode == WL_DATA_SOURCE_SEND) {
      if (g->raw_fds.empty()) fuzz::Die("a data_source.send without its fd");
      g->got_fds.push_back(g->raw_fds.front());
      g->raw_fds.pop_front();
    } else if (Contains(g->devices, object) && opcode == WL_DATA_DEVICE_DATA_OFFER) {
      g->offers.push_back(first);
    } else if (Contains(g->offers, object) && opcode == WL_DATA_OFFER_OFFER) {
      const std::string mime = ArgString(args, length);
      if (!Allowed(mime.c_str())) fuzz::Die("the guest was offered a type outside the list");
    } else if (object == done_id && opcode == 0) {
      done = true;
    }
    pos += size;
  }
  g->in.erase(g->in.begin(), g->in.begin() + static_cast<std::ptrdiff_t>(pos));
  return done;
}

// Reads what the bridge sent, keeping its fds; false once it closed the connection.
bool Receive(Guest* g) {
  pollfd p{g->fd, POLLIN, 0};
  const int ready = ::poll(&p, 1, kSyncTimeoutMs);
  if (ready == 0) fuzz::Die("the bridge neither answered a sync nor dropped the guest in 10 s");
  if (ready < 0) return true;
  uint8_t buffer[8192];
  char control[CMSG_SPACE(sizeof(int) * 28)];
  iovec iov{buffer, sizeof buffer};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(g->fd, &message, MSG_CMSG_CLOEXEC);
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      g->raw_fds.push_back(fd);
    }
  }
  if (n <= 0) return false;
  g->in.insert(g->in.end(), buffer, buffer + n);
  return true;
}

void ReadGuestPipes(Guest* g) {
  for (ReadEnd& end : g->read_ends) {
    ReadCapped(&end, kCaps[g->mode], "a host-to-guest transfer carried more than the cap");
  }
}

// wl_display.sync, relayed by the bridge to the host: once done, the host has handled every
// request sent before it, and the guest has every event the host sent before that.
void Sync(Guest* g) {
  if (g->dead) return;
  if (++g->syncs > kMaxSyncs) {
    Flush(g);
    return;
  }
  const uint32_t callback = g->next_id++;
  Request(g, 1, 0, [&] {
    std::vector<uint8_t> a;
    Put32(&a, callback);
    return a;
  }());
  Flush(g);
  for (;;) {
    if (g->dead || !Receive(g)) {
      if (g_trace) std::fprintf(stderr, "guest  dropped\n");
      g->dead = true;
      break;
    }
    if (ParseEvents(g, callback)) {
      if (g->expect_end) fuzz::Die("a receive with a fd that is no pipe's write end was taken");
      break;
    }
  }
  g->pending = g->host_acted = false;
  ReadGuestPipes(g);
}

// Reads an operand byte (0 past the end).
using Reader = droidway::fuzz::FuzzInput;

// A MIME operand: an index into kMimes, or 0xf0+ then a length byte and that many raw bytes.
std::string MimeFrom(uint8_t index, Reader* r, std::vector<uint8_t>* raw) {
  if (index < 0xf0) return kMimes[index % (sizeof kMimes / sizeof kMimes[0])];
  *raw = r->Bytes(r->Byte());
  // A NUL inside would end the string early in libwayland: keep the bytes before it.
  const auto nul = std::find(raw->begin(), raw->end(), 0);
  raw->erase(nul, raw->end());
  return std::string(raw->begin(), raw->end());
}

std::string MimeOperand(Reader* r, std::vector<uint8_t>* raw) {
  return MimeFrom(r->Byte(), r, raw);
}

uint32_t PickId(const std::vector<uint32_t>& list, uint8_t index) {
  return list.empty() ? 0 : list[index % list.size()];
}

std::vector<uint8_t> Words(std::initializer_list<uint32_t> words) {
  std::vector<uint8_t> a;
  for (uint32_t w : words) Put32(&a, w);
  return a;
}

void GuestStep(Guest* g, uint8_t op, Reader* r) {
  // Steps naming offers or fds need what the host's last steps sent.
  if (g->host_acted && (op == kOfferReceive || op == kOfferAccept || op == kOfferRequest ||
                        op == kGuestWrite || op == kRaw)) {
    Sync(g);
  }
  std::vector<uint8_t> raw;
  switch (op) {
    case kBind: {
      const uint8_t which = r->Byte() % 3;
      const uint8_t version_byte = r->Byte();
      static const char* const kNames[] = {"wl_compositor", "wl_seat", "wl_data_device_manager"};
      const Guest::Global& global = which == 0 ? g->compositor : which == 1 ? g->seat : g->manager;
      // A global the bridge does not offer is asked for by a made-up name (the bridge refuses).
      const uint32_t name = global.name != 0 ? global.name : 0xdead;
      const uint32_t version = global.version != 0 ? 1 + version_byte % global.version : 1;
      const uint32_t id = g->next_id++;
      std::vector<uint8_t> a;
      Put32(&a, name);
      PutString(&a, kNames[which]);
      Put32(&a, version);
      Put32(&a, id);
      Request(g, 2, 0, a);
      if (which == 0) g->compositor_id = id;
      if (which == 1) g->seats.push_back(id);
      if (which == 2) g->manager_id = id, g->manager_version = version;
      return;
    }
    case kCreateSurface:
      if (g->compositor_id == 0) return;
      g->surfaces.push_back(g->next_id);
      Request(g, g->compositor_id, 0, Words({g->next_id++}));
      return;
    case kGetKeyboard: {
      const uint32_t seat = PickId(g->seats, r->Byte());
      if (seat == 0) return;
      g->keyboards.push_back(g->next_id);
      Request(g, seat, 1, Words({g->next_id++}));
      return;
    }
    case kGetDataDevice: {
      const uint32_t seat = PickId(g->seats, r->Byte());
      if (seat == 0 || g->manager_id == 0) return;
      g->devices.push_back(g->next_id);
      Request(g, g->manager_id, 1, Words({g->next_id++, seat}));
      return;
    }
    case kCreateSource:
      if (g->manager_id == 0) return;
      g->sources.push_back(g->next_id);
      Request(g, g->manager_id, 0, Words({g->next_id++}));
      return;
    case kSourceOffer: {
      const uint32_t source = PickId(g->sources, r->Byte());
      const std::string mime = MimeOperand(r, &raw);
      if (source == 0) return;
      std::vector<uint8_t> a;
      PutString(&a, mime);
      Request(g, source, 0, a);
      return;
    }
    case kSetSelection: {
      const uint32_t device = PickId(g->devices, r->Byte());
      const uint8_t index = r->Byte();
      const uint32_t serial = r->Byte();
      const uint32_t source = index == 0xff ? 0 : PickId(g->sources, index);
      if (device == 0) return;
      Request(g, device, 1, Words({source, serial}));
      return;
    }
    case kOfferReceive: {
      const uint32_t offer = PickId(g->offers, r->Byte());
      const std::string mime = MimeOperand(r, &raw);
      const uint8_t kind = r->Byte() % kFdKinds;
      if (offer == 0) return;
      const int fd = MakeFd(kind, &g->read_ends);
      if (fd < 0) return;
      std::vector<uint8_t> a;
      PutString(&a, mime);
      Request(g, offer, 1, a, fd);
      if (kind < fuzz::kFdMenuSize) g->expect_end = true;
      if (g->out_fds.size() >= fuzz::kMaxSendFds) Flush(g);
      return;
    }
    case kOfferAccept: {
      const uint32_t offer = PickId(g->offers, r->Byte());
      const uint32_t serial = r->Byte();
      const uint8_t index = r->Byte();
      if (offer == 0) return;
      std::vector<uint8_t> a;
      Put32(&a, serial);
      if (index == 0xff) {
        Put32(&a, 0);
      } else {
        PutString(&a, MimeFrom(index, r, &raw));
      }
      Request(g, offer, 0, a);
      return;
    }
    case kOfferRequest: {
      const uint8_t index = r->Byte();
      const uint32_t offer = PickId(g->offers, index);
      const uint8_t which = r->Byte() % 3;
      const uint32_t actions = r->Byte();
      const uint32_t preferred = r->Byte();
      if (offer == 0) return;
      if (which == 0) {
        Request(g, offer, 2, {});  // destroy
        g->offers.erase(std::find(g->offers.begin(), g->offers.end(), offer));
      } else if (which == 1) {
        Request(g, offer, 3, {});  // finish
      } else {
        Request(g, offer, 4, Words({actions, preferred}));
      }
      return;
    }
    case kSourceRequest: {
      const uint32_t source = PickId(g->sources, r->Byte());
      const uint8_t which = r->Byte() % 2;
      const uint32_t actions = r->Byte();
      if (source == 0) return;
      if (which == 0) {
        Request(g, source, 1, {});  // destroy
        g->sources.erase(std::find(g->sources.begin(), g->sources.end(), source));
      } else {
        Request(g, source, 2, Words({actions}));
      }
      return;
    }
    case kDeviceRelease: {
      const uint32_t device = PickId(g->devices, r->Byte());
      if (device == 0) return;
      Request(g, device, 2, {});
      g->devices.erase(std::find(g->devices.begin(), g->devices.end(), device));
      return;
    }
    case kStartDrag: {
      const uint32_t device = PickId(g->devices, r->Byte());
      const uint8_t source_index = r->Byte();
      const uint32_t surface = PickId(g->surfaces, r->Byte());
      const uint32_t serial = r->Byte();
      const uint32_t source = source_index == 0xff ? 0 : PickId(g->sources, source_index);
      if (device == 0 || surface == 0) return;
      Request(g, device, 0, Words({source, surface, 0, serial}));
      return;
    }
    case kRaw: {
      // Any opcode and argument bytes to one of the tracked objects (or the registry).
      const uint8_t kind = r->Byte() % 6;
      const uint8_t index = r->Byte();
      const uint16_t opcode = r->Byte();
      const size_t length = std::min<size_t>(r->Byte() * 4u, kMaxRawArgs);
      const std::vector<uint32_t>* lists[] = {&g->devices, &g->sources, &g->offers, &g->keyboards,
                                              &g->surfaces};
      const uint32_t object =
          kind == 5 ? (g->manager_id != 0 ? g->manager_id : 2) : PickId(*lists[kind], index);
      std::vector<uint8_t> a = r->Bytes(length);
      a.resize(a.size() & ~size_t{3});
      if (object == 0) return;
      Request(g, object, opcode, a);
      return;
    }
    case kGuestWrite: {
      const size_t length = r->Byte() | (r->Byte() << 8);
      const bool close = (r->Byte() & 1) != 0;
      if (g->got_fds.empty()) return;
      const int fd = g->got_fds.front();
      const int flags = ::fcntl(fd, F_GETFL);
      if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
      std::vector<char> bytes(length, 'g');
      if (length > 0 && ::write(fd, bytes.data(), length) < 0) {
        // EAGAIN, EPIPE, EBADF (a read-only keymap): all fine here.
      }
      if (close) {
        ::close(fd);
        g->got_fds.pop_front();
      }
      return;
    }
    case kKeyboardRelease: {
      const uint32_t keyboard = PickId(g->keyboards, r->Byte());
      if (keyboard == 0) return;
      Request(g, keyboard, 0, {});
      g->keyboards.erase(std::find(g->keyboards.begin(), g->keyboards.end(), keyboard));
      return;
    }
    case kSync:
      Sync(g);
      return;
    default:
      return;
  }
}

int HostOperandCount(uint8_t op) {
  switch (op) {
    case kHostOffer:
      return 2;  // then up to 7 mime operands, read separately
    case kHostSend:
      return 3;
    case kHostSourceEvent:
    case kHostFeed:
    case kHostError:
      return 3;
    case kHostDnd:
      return 4;
    case kHostEnter:
    case kHostLeave:
    case kHostSelection:
      return 2;
    default:
      return 1;
  }
}

void Run(Guest* g, Reader* r) {
  for (size_t step = 0; step < kMaxSteps && !r->done() && !g->dead; ++step) {
    const uint8_t op = r->Byte() % kOpCount;
    if (op < kHostEnter) {
      GuestStep(g, op, r);
      continue;
    }
    uint8_t a[12] = {};
    const int count = HostOperandCount(op);
    for (int i = 0; i < count; ++i) a[i] = r->Byte();
    std::vector<uint8_t> raw_mime;
    if (op == kHostOffer) {
      // The types as indices (the raw form takes a length byte and bytes; one raw type per step).
      for (int i = 0; i < a[1] % 8; ++i) {
        a[2 + i] = r->Byte();
        if (a[2 + i] >= 0xf0 && raw_mime.empty()) raw_mime = r->Bytes(r->Byte());
      }
    } else if (op == kHostSend && a[1] >= 0xf0) {
      raw_mime = r->Bytes(r->Byte());
    }
    raw_mime.erase(std::find(raw_mime.begin(), raw_mime.end(), 0), raw_mime.end());
    // The host acts on what it has: sync first when the guest sent requests since (an offer in
    // flight only flushes them; the host then waits for them to arrive, see WaitForBridgeBytes).
    const bool in_flight =
        ((op == kHostOffer && (a[1] & 0x80) != 0) || (op == kHostSelection && a[1] == 0xfe)) &&
        g->pending;
    if (op == kHostOffer && !in_flight) a[1] = static_cast<uint8_t>(a[1] & 0x7f);
    if (op == kHostSelection) a[2] = in_flight ? 1 : 0;
    if (in_flight) {
      // Flushed once the host runs the step, so that it cannot read them before it acts.
      fuzz::RunOnStubHostMeanwhile([&] { HostStep(op, a, raw_mime); }, [&] { Flush(g); });
      g->host_acted = true;
      continue;
    }
    if (g->pending) Sync(g);
    if (g->dead) break;
    fuzz::RunOnStubHost([&] { HostStep(op, a, raw_mime); });
    g->host_acted = true;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietWaylandLog();
  fuzz::SetStubHooks(OnHostRequest, OnHostClient);
  for (int mode = 0; mode < 3; ++mode) {
    g_mode = mode;
    droidway::bridge::BridgeConfig config;
    config.globals = droidway::bridge::Bridge::SupportedGlobals();
    config.max_clients = 64;
    config.max_clients_per_uid = 64;
    config.clipboard.mode = static_cast<ClipboardMode>(mode);
    config.clipboard.mime_types.assign(std::begin(kAllowed), std::end(kAllowed));
    config.clipboard.max_bytes = kCaps[mode];
    g_sockets[mode] = fuzz::StartFuzzBridge(config);
    // A bridge keeps the stats of its last 256 clients (kFinishedClientsKept): until then each
    // input leaves one more malloc than frees, and libFuzzer reruns it to look for a leak.
    for (int i = 0; i < 260; ++i) {
      Guest g;
      g.fd = fuzz::ConnectGuest(g_sockets[mode]);
      g.mode = mode;
      Request(&g, 1, 1, Words({2}));
      Sync(&g);
      ::close(g.fd);
    }
  }
  // The harness writes into pipes whose reader may have left: EPIPE, not a signal. (Only this
  // thread's mask: the bridges' threads block it themselves.)
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  ::usleep(100 * 1000);
  g_idle_host_clients = 3;  // one per bridge
  WaitForHostIdle();
  g_baseline_fds = fuzz::TakeFdBaseline();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Guest g;
  g.mode = data[0] % 3;
  g_mode = g.mode;
  g.fd = fuzz::ConnectGuest(g_sockets[g.mode]);
  Request(&g, 1, 1, Words({2}));  // wl_display.get_registry
  Sync(&g);
  Reader r(data + 1, size - 1);
  Run(&g, &r);
  Flush(&g);
  ::shutdown(g.fd, SHUT_WR);
  while (!g.dead && Receive(&g)) ParseEvents(&g, 0);
  ::close(g.fd);
  for (int fd : g.got_fds) ::close(fd);
  for (int fd : g.raw_fds) ::close(fd);
  ReadGuestPipes(&g);
  for (const ReadEnd& end : g.read_ends) ::close(end.fd);
  WaitForHostIdle();
  fuzz::CheckNoFdKept(g_baseline_fds);
  if (g_leak_check && __lsan_do_recoverable_leak_check() != 0)
    fuzz::Die("LeakSanitizer found a leak (its report is above)");
  return 0;
}
