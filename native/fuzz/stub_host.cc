#include "stub_host.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "../src/bridge/wayland_headers.h"

namespace droidway {
namespace fuzz {
namespace {

constexpr uint32_t kXrgb8888Drm = 0x34325258;

int Dispatch(const void* implementation, void* target, uint32_t opcode, const wl_message* message,
             wl_argument* args);

wl_resource* CreateStub(wl_client* client, const wl_interface* interface, int version,
                        uint32_t id) {
  wl_resource* resource = wl_resource_create(client, interface, version, id);
  if (resource != nullptr)
    wl_resource_set_dispatcher(resource, Dispatch, nullptr, nullptr, nullptr);
  return resource;
}

void SendKeymap(wl_resource* keyboard) {
  static const char kKeymap[] = "xkb_keymap { };";
  const int fd = ::memfd_create("stub-keymap", MFD_CLOEXEC);
  if (fd < 0) return;
  if (::write(fd, kKeymap, sizeof kKeymap) == static_cast<ssize_t>(sizeof kKeymap)) {
    wl_keyboard_send_keymap(keyboard, WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1, fd, sizeof kKeymap);
  }
  ::close(fd);
}

StubRequestHook& RequestHook() {
  static StubRequestHook* hook = new StubRequestHook;
  return *hook;
}

StubClientHook& ClientHook() {
  static StubClientHook* hook = new StubClientHook;
  return *hook;
}

// Accepts any request: makes the objects it creates, closes the fds it carries (unless the
// target's hook took them), destroys the object on a destructor-named request, and answers the
// few requests the bridge waits on.
int Dispatch(const void*, void* target, uint32_t, const wl_message* message, wl_argument* args) {
  auto* resource = static_cast<wl_resource*>(target);
  wl_client* client = wl_resource_get_client(resource);
  const int version = wl_resource_get_version(resource);
  int i = 0;
  for (const char* p = message->signature; *p != '\0'; ++p) {
    if (*p == '?' || (*p >= '0' && *p <= '9')) continue;
    if (*p == 'n' && message->types[i] != nullptr) {
      wl_resource* made = CreateStub(client, message->types[i], version, args[i].n);
      if (made != nullptr && std::strcmp(message->name, "get_keyboard") == 0) SendKeymap(made);
      if (made != nullptr && std::strcmp(message->name, "get_toplevel") == 0) {
        wl_array states;
        wl_array_init(&states);
        xdg_toplevel_send_configure(made, 0, 0, &states);
        xdg_surface_send_configure(resource, 1);
      }
    }
    ++i;
  }
  const bool took_fds = RequestHook() && RequestHook()(resource, message, args);
  i = 0;
  for (const char* p = message->signature; *p != '\0'; ++p) {
    if (*p == '?' || (*p >= '0' && *p <= '9')) continue;
    if (*p == 'h' && !took_fds) ::close(args[i].h);
    ++i;
  }
  if (std::strcmp(message->name, "destroy") == 0 || std::strcmp(message->name, "release") == 0) {
    wl_resource_destroy(resource);
  }
  return 0;
}

void Bind(wl_client* client, void* data, uint32_t version, uint32_t id) {
  const auto* interface = static_cast<const wl_interface*>(data);
  wl_resource* resource = CreateStub(client, interface, static_cast<int>(version), id);
  if (resource == nullptr) return;
  if (interface == &wl_shm_interface) {
    wl_shm_send_format(resource, WL_SHM_FORMAT_ARGB8888);
    wl_shm_send_format(resource, WL_SHM_FORMAT_XRGB8888);
  } else if (interface == &zwp_linux_dmabuf_v1_interface) {
    zwp_linux_dmabuf_v1_send_format(resource, kXrgb8888Drm);
    zwp_linux_dmabuf_v1_send_modifier(resource, kXrgb8888Drm, 0, 0);
  } else if (interface == &wl_seat_interface) {
    wl_seat_send_capabilities(resource, WL_SEAT_CAPABILITY_POINTER | WL_SEAT_CAPABILITY_KEYBOARD);
  } else if (interface == &wl_output_interface) {
    wl_output_send_mode(resource, WL_OUTPUT_MODE_CURRENT, 1024, 768, 60000);
    if (version >= 2) wl_output_send_done(resource);
  }
}

struct StubHost {
  wl_display* display = nullptr;
  int queue[2] = {-1, -1};    // sockets handed from the bridge thread to the host thread
  int actions[2] = {-1, -1};  // RunOnStubHost's actions, likewise
  wl_event_source* queue_source = nullptr;  // kept: the loop itself holds it only in epoll
  wl_event_source* actions_source = nullptr;
};

StubHost* g_host = nullptr;

int Accept(int fd, uint32_t, void* data) {
  auto* host = static_cast<StubHost*>(data);
  int socket_fd;
  while (::read(fd, &socket_fd, sizeof socket_fd) == static_cast<ssize_t>(sizeof socket_fd)) {
    wl_client* client = wl_client_create(host->display, socket_fd);
    if (client == nullptr) {
      ::close(socket_fd);
    } else if (ClientHook()) {
      ClientHook()(client);
    }
  }
  return 0;
}

struct Action {
  const std::function<void()>* run;
  std::mutex mutex;
  std::condition_variable done_changed;
  bool started = false;
  bool done = false;
};

int RunActions(int fd, uint32_t, void* data) {
  auto* host = static_cast<StubHost*>(data);
  Action* action;
  while (::read(fd, &action, sizeof action) == static_cast<ssize_t>(sizeof action)) {
    {
      std::lock_guard<std::mutex> lock(action->mutex);
      action->started = true;
      action->done_changed.notify_all();
    }
    (*action->run)();
    wl_display_flush_clients(host->display);
    std::lock_guard<std::mutex> lock(action->mutex);
    action->done = true;
    action->done_changed.notify_all();
  }
  return 0;
}

StubHost* Create() {
  auto* host = new StubHost;
  host->display = wl_display_create();
  if (host->display == nullptr || ::pipe2(host->queue, O_CLOEXEC | O_NONBLOCK) != 0 ||
      ::pipe2(host->actions, O_CLOEXEC | O_NONBLOCK) != 0) {
    return nullptr;
  }
  const struct {
    const wl_interface* interface;
    int version;
  } globals[] = {
      {&wl_compositor_interface, 5},
      {&wl_subcompositor_interface, 1},
      {&wl_shm_interface, 1},
      {&wl_output_interface, 3},
      {&wl_seat_interface, 7},
      {&xdg_wm_base_interface, 5},
      {&wp_viewporter_interface, 1},
      {&wp_presentation_interface, 1},
      {&zwp_linux_dmabuf_v1_interface, 3},
      // Last, so that the names above stay those the bridge_request seeds use.
      {&wl_data_device_manager_interface, 3},
  };
  for (const auto& g : globals) {
    const int version = g.version < g.interface->version ? g.version : g.interface->version;
    wl_global_create(host->display, g.interface, version, const_cast<wl_interface*>(g.interface),
                     Bind);
  }
  wl_event_loop* loop = wl_display_get_event_loop(host->display);
  host->queue_source = wl_event_loop_add_fd(loop, host->queue[0], WL_EVENT_READABLE, Accept, host);
  host->actions_source =
      wl_event_loop_add_fd(loop, host->actions[0], WL_EVENT_READABLE, RunActions, host);
  std::thread([host] {
    // A host writing into a pipe whose reader left gets EPIPE, as a compositor would.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    wl_display_run(host->display);
  }).detach();
  g_host = host;
  return host;
}

}  // namespace

bridge::HostConnection::Connector StartStubHost() {
  static StubHost* host = Create();
  return [](UniqueFd* out) -> NativeStatus {
    if (host == nullptr)
      return NativeStatus::Error(-EIO, "wl_display_create", "stub host did not start");
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return NativeStatus::FromErrno("socketpair", "stub host connection");
    }
    if (::write(host->queue[1], &pair[1], sizeof pair[1]) != static_cast<ssize_t>(sizeof pair[1])) {
      ::close(pair[0]);
      ::close(pair[1]);
      return NativeStatus::Error(-EIO, "write", "stub host queue full");
    }
    *out = UniqueFd(pair[0]);
    return {};
  };
}

void SetStubHooks(StubRequestHook request, StubClientHook client) {
  RequestHook() = std::move(request);
  ClientHook() = std::move(client);
}

void RunOnStubHostMeanwhile(const std::function<void()>& run,
                            const std::function<void()>& meanwhile) {
  if (g_host == nullptr) return;
  Action action;
  action.run = &run;
  Action* pointer = &action;
  if (::write(g_host->actions[1], &pointer, sizeof pointer) !=
      static_cast<ssize_t>(sizeof pointer)) {
    if (meanwhile) meanwhile();
    return;
  }
  std::unique_lock<std::mutex> lock(action.mutex);
  if (meanwhile) {
    action.done_changed.wait(lock, [&] { return action.started; });
    lock.unlock();
    meanwhile();
    lock.lock();
  }
  action.done_changed.wait(lock, [&] { return action.done; });
}

void RunOnStubHost(const std::function<void()>& run) {
  RunOnStubHostMeanwhile(run, nullptr);
}

wl_resource* CreateStubResource(wl_client* client, const wl_interface* interface, int version,
                                uint32_t id) {
  return CreateStub(client, interface, version, id);
}

}  // namespace fuzz
}  // namespace droidway
