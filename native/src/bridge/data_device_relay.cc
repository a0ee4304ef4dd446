#include "data_device_relay.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bridge.h"
#include "bridge_client.h"
#include "relay_object.h"
#include "relay_unit.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {
namespace {

// Transfers one client may run at once; more receive requests are answered with end of file.
constexpr size_t kMaxTransfers = 4;
// A transfer with no byte moved for this long is ended (a guest that never reads its pipe).
constexpr int kIdleTimeoutMs = 5000;
// set_selection requests one client may make per second before it counts as a flood.
constexpr uint32_t kMaxSelectionsPerSecond = 32;
constexpr size_t kBufferBytes = 64 * 1024;

int64_t NowMs() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000;
}

// Whether `fd` is the write end of a pipe: what receive/send promise to write into.
bool IsPipeWriteEnd(int fd) {
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return false;
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_ACCMODE) == O_WRONLY;
}

bool SetNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

}  // namespace

/** One copy from `from` to `to`, at most `cap` bytes, on the bridge loop. */
class ClipboardTransfer {
 public:
  ClipboardTransfer(DataDeviceRelay* relay, wl_event_loop* loop, UniqueFd from, UniqueFd to,
                    uint64_t cap)
      : relay_(relay), loop_(loop), from_(std::move(from)), to_(std::move(to)), cap_(cap) {
    buffer_.resize(kBufferBytes);
  }
  ~ClipboardTransfer() {
    Unwatch(&from_source_);
    Unwatch(&to_source_);
    if (timer_ != nullptr) wl_event_source_remove(timer_);
  }
  ClipboardTransfer(const ClipboardTransfer&) = delete;
  ClipboardTransfer& operator=(const ClipboardTransfer&) = delete;

  bool Start() {
    if (!SetNonBlocking(from_.get()) || !SetNonBlocking(to_.get())) return false;
    timer_ = wl_event_loop_add_timer(loop_, TimerThunk, this);
    if (timer_ == nullptr) return false;
    wl_event_source_timer_update(timer_, kIdleTimeoutMs);
    return Pump();
  }

 private:
  // Moves what can move now; false once the transfer is over (the caller then ends it).
  bool Pump() {
    bool progress = false;
    for (;;) {
      if (length_ > offset_) {
        const ssize_t n = ::write(to_.get(), buffer_.data() + offset_, length_ - offset_);
        if (n > 0) {
          offset_ += static_cast<size_t>(n);
          if (offset_ == length_) offset_ = length_ = 0;
          progress = true;
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        return false;  // the reader went away
      }
      if (eof_ || total_ >= cap_) return false;  // everything written; the cap cuts the rest
      const uint64_t room = std::min<uint64_t>(buffer_.size(), cap_ - total_);
      const ssize_t n = ::read(from_.get(), buffer_.data(), room);
      if (n > 0) {
        length_ = static_cast<size_t>(n);
        offset_ = 0;
        total_ += static_cast<uint64_t>(n);
        progress = true;
        continue;
      }
      if (n == 0) {
        eof_ = true;
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return false;
    }
    if (progress) wl_event_source_timer_update(timer_, kIdleTimeoutMs);
    // One direction watched at a time: a hung-up fd in the epoll set while the other side is
    // full would wake the loop forever.
    const bool writing = length_ > offset_;
    if (writing) {
      Unwatch(&from_source_);
      if (!Watch(&to_source_, to_.get(), WL_EVENT_WRITABLE)) return false;
    } else {
      Unwatch(&to_source_);
      if (!Watch(&from_source_, from_.get(), WL_EVENT_READABLE)) return false;
    }
    return true;
  }

  bool Watch(wl_event_source** source, int fd, uint32_t mask) {
    if (*source != nullptr) return true;
    *source = wl_event_loop_add_fd(loop_, fd, mask, FdThunk, this);
    return *source != nullptr;
  }
  static void Unwatch(wl_event_source** source) {
    if (*source != nullptr) wl_event_source_remove(*source);
    *source = nullptr;
  }

  static int FdThunk(int /*fd*/, uint32_t /*mask*/, void* data) {
    auto* self = static_cast<ClipboardTransfer*>(data);
    if (!self->Pump()) self->relay_->TransferDone(self);  // deletes self
    return 0;
  }
  static int TimerThunk(void* data) {
    auto* self = static_cast<ClipboardTransfer*>(data);
    self->relay_->TransferDone(self);  // deletes self
    return 0;
  }

  DataDeviceRelay* relay_;
  wl_event_loop* loop_;
  UniqueFd from_;
  UniqueFd to_;
  const uint64_t cap_;
  std::vector<char> buffer_;
  size_t offset_ = 0;
  size_t length_ = 0;
  uint64_t total_ = 0;
  bool eof_ = false;
  wl_event_source* from_source_ = nullptr;
  wl_event_source* to_source_ = nullptr;
  wl_event_source* timer_ = nullptr;
};

bool ParseClipboardMode(const std::string& name, ClipboardMode* out) {
  if (name == "off") {
    *out = ClipboardMode::kOff;
  } else if (name == "host-to-guest") {
    *out = ClipboardMode::kHostToGuest;
  } else if (name == "both") {
    *out = ClipboardMode::kBoth;
  } else {
    return false;
  }
  return true;
}

const char* ClipboardModeName(ClipboardMode mode) {
  switch (mode) {
    case ClipboardMode::kOff:
      return "off";
    case ClipboardMode::kHostToGuest:
      return "host-to-guest";
    case ClipboardMode::kBoth:
      return "both";
  }
  return "off";
}

bool ValidClipboardMime(const std::string& mime) {
  if (mime.empty() || mime.size() > kClipboardMaxMimeLength) return false;
  return std::all_of(mime.begin(), mime.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

DataDeviceRelay::DataDeviceRelay(BridgeClient* owner) : owner_(owner) {
  // A write into a pipe whose reader left must fail with EPIPE, not end the process.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
}

DataDeviceRelay::~DataDeviceRelay() = default;

bool DataDeviceRelay::Allowed(const char* mime) const {
  if (mime == nullptr) return false;
  const auto& list = owner_->bridge()->config().clipboard.mime_types;
  return std::find(list.begin(), list.end(), mime) != list.end();
}

bool DataDeviceRelay::StartTransfer(int from, int to, const char* what) {
  UniqueFd in(from);
  UniqueFd out(to);
  if (transfers_.size() >= kMaxTransfers) return false;
  auto transfer = std::make_unique<ClipboardTransfer>(
      this, owner_->bridge()->loop(), std::move(in), std::move(out),
      owner_->bridge()->config().clipboard.max_bytes);
  ClipboardTransfer* raw = transfer.get();
  transfers_.push_back(std::move(transfer));
  (void)what;
  // Start may finish at once (an empty selection): TransferDone then deletes it.
  if (!raw->Start()) TransferDone(raw);
  return true;
}

void DataDeviceRelay::TransferDone(ClipboardTransfer* transfer) {
  for (auto it = transfers_.begin(); it != transfers_.end(); ++it) {
    if (it->get() == transfer) {
      transfers_.erase(it);
      return;
    }
  }
}

bool DataDeviceRelay::CheckRequest(RelayObject* object, uint32_t opcode, wl_argument* args) {
  const ClipboardConfig& config = owner_->bridge()->config().clipboard;
  switch (object->kind()) {
    case RelayKind::kDataSource:
      if (opcode == WL_DATA_SOURCE_OFFER) {
        auto& types = types_[object];
        if (types.size() >= kClipboardMaxMimeTypes) {
          const std::string message = "clipboard-flood: a data source offers at most " +
                                      std::to_string(kClipboardMaxMimeTypes) + " types";
          owner_->Kill("violation:clipboard-flood", message);
          owner_->RecordViolation("clipboard-flood", message, false);
          return false;
        }
        if (!Allowed(args[0].s)) return false;
        types.emplace_back(args[0].s);
      }
      return true;
    case RelayKind::kDataDevice:
      if (std::find(devices_.begin(), devices_.end(), object) == devices_.end())
        devices_.push_back(object);
      if (opcode == WL_DATA_DEVICE_START_DRAG) {
        // Drag-and-drop is not relayed: the guest's drag ends at once.
        auto* source = reinterpret_cast<wl_resource*>(args[0].o);
        if (source != nullptr) wl_data_source_send_cancelled(source);
        return false;
      }
      if (opcode == WL_DATA_DEVICE_SET_SELECTION) {
        const int64_t now = NowMs();
        if (now - window_start_ms_ >= 1000) {
          window_start_ms_ = now;
          selections_in_window_ = 0;
        }
        if (++selections_in_window_ > kMaxSelectionsPerSecond) {
          const std::string message = "clipboard-flood: at most " +
                                      std::to_string(kMaxSelectionsPerSecond) +
                                      " set_selection requests a second";
          owner_->Kill("violation:clipboard-flood", message);
          owner_->RecordViolation("clipboard-flood", message, false);
          return false;
        }
        if (config.mode != ClipboardMode::kBoth) {
          // The guest's selection stays inside: its source is told it is no longer current.
          auto* source = reinterpret_cast<wl_resource*>(args[0].o);
          if (source != nullptr) wl_data_source_send_cancelled(source);
          return false;
        }
      }
      return true;
    case RelayKind::kDataOffer:
      if (opcode == WL_DATA_OFFER_RECEIVE) {
        if (!IsPipeWriteEnd(args[1].h)) {
          const std::string message =
              "clipboard-fd: wl_data_offer.receive takes the write end of a pipe";
          owner_->Kill("violation:clipboard-fd", message);
          owner_->RecordViolation("clipboard-fd", message, true);
          return false;
        }
        const auto it = types_.find(object);
        const bool offered =
            it != types_.end() && args[0].s != nullptr &&
            std::find(it->second.begin(), it->second.end(), args[0].s) != it->second.end();
        // Without focus, or for a type never offered, the guest reads end of file.
        if (focused_.empty() || !offered || transfers_.size() >= kMaxTransfers) return false;
        int ends[2];
        if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return false;
        const int guest_fd = args[1].h;
        args[1].h = ends[1];  // the host writes into the bridge's pipe (closed after forwarding)
        StartTransfer(ends[0], guest_fd, "host-to-guest");
      }
      return true;
    default:
      return true;
  }
}

bool DataDeviceRelay::FilterEvent(RelayObject* object, uint32_t opcode, wl_argument* args,
                                  wl_argument* out, UniqueFd* hold) {
  const ClipboardConfig& config = owner_->bridge()->config().clipboard;
  switch (object->kind()) {
    case RelayKind::kDataDevice:
      if (std::find(devices_.begin(), devices_.end(), object) == devices_.end())
        devices_.push_back(object);
      if (opcode == WL_DATA_DEVICE_DATA_OFFER) return true;
      if (opcode == WL_DATA_DEVICE_SELECTION) {
        RelayObject* offer = RelayObject::FromProxy(reinterpret_cast<wl_proxy*>(args[0].o));
        const auto it = types_.find(offer);
        selection_ =
            offer != nullptr && it != types_.end() && !it->second.empty() ? offer : nullptr;
        if (focused_.empty()) return false;  // replayed when the guest's window gets focus
        out[0].o =
            selection_ != nullptr ? reinterpret_cast<wl_object*>(selection_->resource()) : nullptr;
        return true;
      }
      return false;  // enter, leave, motion, drop: drag-and-drop is not relayed
    case RelayKind::kDataOffer:
      if (opcode == WL_DATA_OFFER_OFFER) {
        auto& types = types_[object];
        if (!Allowed(args[0].s) || types.size() >= kClipboardMaxMimeTypes) return false;
        types.emplace_back(args[0].s);
      }
      return true;
    case RelayKind::kDataSource:
      if (opcode == WL_DATA_SOURCE_SEND) {
        const auto it = types_.find(object);
        const bool offered =
            it != types_.end() && args[0].s != nullptr &&
            std::find(it->second.begin(), it->second.end(), args[0].s) != it->second.end();
        // The host's reader gets end of file for anything not allowed.
        if (config.mode != ClipboardMode::kBoth || !offered || !IsPipeWriteEnd(args[1].h) ||
            transfers_.size() >= kMaxTransfers) {
          return false;
        }
        int ends[2];
        if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return false;
        const int host_fd = args[1].h;
        args[1].h = -1;
        hold->reset(ends[1]);
        out[1].h = ends[1];  // the guest writes into the bridge's pipe
        StartTransfer(ends[0], host_fd, "guest-to-host");
      }
      return true;
    default:
      return true;
  }
}

void DataDeviceRelay::KeyboardFocus(RelayObject* keyboard, bool entered) {
  const bool had = !focused_.empty();
  focused_.erase(std::remove(focused_.begin(), focused_.end(), keyboard), focused_.end());
  if (entered) focused_.push_back(keyboard);
  const bool has = !focused_.empty();
  if (had == has) return;
  for (RelayObject* device : devices_) {
    wl_resource* offer = has && selection_ != nullptr ? selection_->resource() : nullptr;
    wl_data_device_send_selection(device->resource(), offer);
  }
}

void DataDeviceRelay::Forget(RelayObject* object) {
  // A keyboard released while focused (its seat lost the keyboard) takes the focus with it.
  if (object->kind() == RelayKind::kKeyboard) return KeyboardFocus(object, false);
  types_.erase(object);
  if (selection_ == object) selection_ = nullptr;
  devices_.erase(std::remove(devices_.begin(), devices_.end(), object), devices_.end());
}

// The clipboard's relay unit (wl_data_device_manager): every hook goes to the client's
// DataDeviceRelay.
namespace {

bool DataCheck(RelayObject* self, uint32_t opcode, wl_argument* args, std::string* /*replaced*/) {
  return self->owner()->clipboard()->CheckRequest(self, opcode, args);
}

bool DataEvent(RelayObject* self, uint32_t opcode, wl_argument* args, wl_argument* out,
               UniqueFd* hold) {
  return self->owner()->clipboard()->FilterEvent(self, opcode, args, out, hold);
}

void DataDestroyed(RelayObject* self) {
  if (self->owner() != nullptr) self->owner()->clipboard()->Forget(self);
}

constexpr RelayHooks kDataHooks = {DataCheck, nullptr, DataEvent, DataDestroyed, nullptr};
constexpr RelayHooks kManagerHooks = {nullptr, nullptr, nullptr, nullptr, nullptr};

const RelayInterface kDataInterfaces[] = {
    {"wl_data_device_manager", RelayKind::kOther, kManagerHooks},
    {"wl_data_device", RelayKind::kDataDevice, kDataHooks},
    {"wl_data_source", RelayKind::kDataSource, kDataHooks},
    {"wl_data_offer", RelayKind::kDataOffer, kDataHooks},
};

}  // namespace

const RelayUnit kDataDeviceUnit = {"data-device", kDataInterfaces,
                                   sizeof kDataInterfaces / sizeof kDataInterfaces[0]};

}  // namespace bridge
}  // namespace droidway
