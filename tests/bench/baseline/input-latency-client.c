// Input latency from the host compositor to a client, for tests/bench/input.bench.js.
//
//   input-latency-client motion|key HOST_SOCKET WIDTH HEIGHT WARMUP COUNT
//
// Two connections in one process, so both timestamps come from one CLOCK_MONOTONIC:
// - the injector, straight to the wlroots compositor at HOST_SOCKET: a long-lived virtual
//   pointer (zwlr_virtual_pointer_v1) or virtual keyboard (zwp_virtual_keyboard_v1) that stamps
//   each event just before it is flushed;
// - the client, to WAYLAND_DISPLAY (the same compositor directly, or the display bridge in front
//   of it): one toplevel filling the WIDTH × HEIGHT output, stamping each wl_pointer.motion or
//   wl_keyboard.key as its listener runs.
// One event is in flight at a time (the next is sent once the previous one arrived): motions
// alternate between two points, keys between press and release of KEY_A, and each arrival is
// checked to be the event just sent. After WARMUP unmeasured events it prints COUNT latencies in
// ns, space-separated, on one line.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#define WLCU_PROGRAM "input-latency-client"
#define WLCU_DIE_STATUS 1
#include "../../../native/guest/wl-client-util.h"
#include "virtual-keyboard-unstable-v1-client-protocol.h"
#include "wlr-virtual-pointer-unstable-v1-client-protocol.h"
#include "xdg-shell-client-protocol.h"

struct client {
  struct wl_compositor* compositor;
  struct wl_shm* shm;
  struct wl_seat* seat;
  struct xdg_wm_base* wm_base;
  struct wl_pointer* pointer;
  struct wl_keyboard* keyboard;
  uint32_t configure_serial;
  /** Events received (motions or keys, by mode), the time of the last and what it said. */
  int motions;
  uint64_t last_motion_ns;
  int last_x;
  int last_y;
};

struct injector {
  struct wl_seat* seat;
  struct zwlr_virtual_pointer_manager_v1* manager;
  struct zwp_virtual_keyboard_manager_v1* keyboards;
};

// The key the bench presses (evdev KEY_A) and the keymap its virtual keyboard uploads
// (resolved by xkbcommon from the system's xkb data, as wtype's is).
#define BENCH_KEY 30
static const char kKeymap[] =
    "xkb_keymap {\n"
    "  xkb_keycodes { include \"evdev+aliases(qwerty)\" };\n"
    "  xkb_types { include \"complete\" };\n"
    "  xkb_compat { include \"complete\" };\n"
    "  xkb_symbols { include \"pc+us+inet(evdev)\" };\n"
    "};\n";

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pointer_enter(void* data, struct wl_pointer* pointer, uint32_t serial,
                          struct wl_surface* surface, wl_fixed_t x, wl_fixed_t y) {
  struct client* client = data;
  (void)pointer, (void)serial, (void)surface, (void)x, (void)y;
  // A motion onto the surface arrives as its enter (warm-up only).
  client->last_motion_ns = now_ns();
  ++client->motions;
}
static void pointer_leave(void* data, struct wl_pointer* pointer, uint32_t serial,
                          struct wl_surface* surface) {
  (void)data, (void)pointer, (void)serial, (void)surface;
}
static void pointer_motion(void* data, struct wl_pointer* pointer, uint32_t time, wl_fixed_t x,
                           wl_fixed_t y) {
  struct client* client = data;
  (void)pointer, (void)time;
  client->last_motion_ns = now_ns();
  client->last_x = wl_fixed_to_int(x);
  client->last_y = wl_fixed_to_int(y);
  ++client->motions;
}
static void pointer_button(void* data, struct wl_pointer* pointer, uint32_t serial, uint32_t time,
                           uint32_t button, uint32_t state) {
  (void)data, (void)pointer, (void)serial, (void)time, (void)button, (void)state;
}
static void pointer_axis(void* data, struct wl_pointer* pointer, uint32_t time, uint32_t axis,
                         wl_fixed_t value) {
  (void)data, (void)pointer, (void)time, (void)axis, (void)value;
}
// Bound at version 1: only these events are sent.
static const struct wl_pointer_listener pointer_listener = {
    .enter = pointer_enter,
    .leave = pointer_leave,
    .motion = pointer_motion,
    .button = pointer_button,
    .axis = pointer_axis,
};

static void keyboard_keymap(void* data, struct wl_keyboard* keyboard, uint32_t format, int fd,
                            uint32_t size) {
  (void)data, (void)keyboard, (void)format, (void)size;
  close(fd);
}
static void keyboard_enter(void* data, struct wl_keyboard* keyboard, uint32_t serial,
                           struct wl_surface* surface, struct wl_array* keys) {
  (void)data, (void)keyboard, (void)serial, (void)surface, (void)keys;
}
static void keyboard_leave(void* data, struct wl_keyboard* keyboard, uint32_t serial,
                           struct wl_surface* surface) {
  (void)data, (void)keyboard, (void)serial, (void)surface;
}
static void keyboard_key(void* data, struct wl_keyboard* keyboard, uint32_t serial, uint32_t time,
                         uint32_t key, uint32_t state) {
  struct client* client = data;
  (void)keyboard, (void)serial, (void)time;
  client->last_motion_ns = now_ns();
  client->last_x = (int)key;
  client->last_y = (int)state;
  ++client->motions;
}
static void keyboard_modifiers(void* data, struct wl_keyboard* keyboard, uint32_t serial,
                               uint32_t depressed, uint32_t latched, uint32_t locked,
                               uint32_t group) {
  (void)data, (void)keyboard, (void)serial, (void)depressed, (void)latched, (void)locked;
  (void)group;
}
static const struct wl_keyboard_listener keyboard_listener = {
    .keymap = keyboard_keymap,
    .enter = keyboard_enter,
    .leave = keyboard_leave,
    .key = keyboard_key,
    .modifiers = keyboard_modifiers,
};

static int key_mode = 0;

static void seat_capabilities(void* data, struct wl_seat* seat, uint32_t caps) {
  struct client* client = data;
  if (key_mode) {
    if ((caps & WL_SEAT_CAPABILITY_KEYBOARD) != 0 && client->keyboard == NULL) {
      client->keyboard = wl_seat_get_keyboard(seat);
      wl_keyboard_add_listener(client->keyboard, &keyboard_listener, client);
    }
    return;
  }
  if ((caps & WL_SEAT_CAPABILITY_POINTER) != 0 && client->pointer == NULL) {
    client->pointer = wl_seat_get_pointer(seat);
    wl_pointer_add_listener(client->pointer, &pointer_listener, client);
  }
}
static void seat_name(void* data, struct wl_seat* seat, const char* name) {
  (void)data, (void)seat, (void)name;
}
static const struct wl_seat_listener seat_listener = {seat_capabilities, seat_name};

static void wm_base_ping(void* data, struct xdg_wm_base* wm_base, uint32_t serial) {
  (void)data;
  xdg_wm_base_pong(wm_base, serial);
}
static const struct xdg_wm_base_listener wm_base_listener = {wm_base_ping};

static void surface_configure(void* data, struct xdg_surface* surface, uint32_t serial) {
  struct client* client = data;
  (void)surface;
  client->configure_serial = serial;
}
static const struct xdg_surface_listener surface_listener = {surface_configure};

static void client_global(void* data, struct wl_registry* registry, uint32_t name,
                          const char* interface, uint32_t version) {
  struct client* client = data;
  const struct wlcu_global globals[] = {
      {&wl_compositor_interface, 1, (void**)&client->compositor, 0},
      {&wl_shm_interface, 1, (void**)&client->shm, 0},
      {&wl_seat_interface, 1, (void**)&client->seat, 0},
      {&xdg_wm_base_interface, 1, (void**)&client->wm_base, 0},
  };
  void* bound = wlcu_bind(registry, name, interface, version, globals, WLCU_COUNT(globals));
  if (bound == NULL) return;
  if (bound == client->seat) wl_seat_add_listener(client->seat, &seat_listener, client);
  if (bound == client->wm_base)
    xdg_wm_base_add_listener(client->wm_base, &wm_base_listener, client);
}

static void injector_global(void* data, struct wl_registry* registry, uint32_t name,
                            const char* interface, uint32_t version) {
  struct injector* injector = data;
  const struct wlcu_global globals[] = {
      {&wl_seat_interface, 1, (void**)&injector->seat, 0},
      {&zwlr_virtual_pointer_manager_v1_interface, 1, (void**)&injector->manager, 0},
      {&zwp_virtual_keyboard_manager_v1_interface, 1, (void**)&injector->keyboards, 0},
  };
  wlcu_bind(registry, name, interface, version, globals, WLCU_COUNT(globals));
}

static const struct wl_registry_listener client_registry = {client_global,
                                                            wlcu_global_remove_ignored};
static const struct wl_registry_listener injector_registry = {injector_global,
                                                              wlcu_global_remove_ignored};

// A solid XRGB8888 buffer in a memfd sealed against shrinking and growing.
static struct wl_buffer* solid_buffer(struct wl_shm* shm, int width, int height) {
  struct wlcu_buffer buffer =
      wlcu_shm_buffer(shm, "input-latency", width, height, WL_SHM_FORMAT_XRGB8888);
  for (size_t i = 0; i < buffer.size / 4; ++i) buffer.pixels[i] = 0x406080;
  wlcu_buffer_unmap(&buffer);
  return buffer.buffer;
}

// Dispatches the client's events until `motions` reaches `want`; 0, or -1 after 2 s without one.
static int wait_motion(struct wl_display* display, struct client* client, int want) {
  while (client->motions < want) {
    if (wl_display_dispatch_pending(display) < 0) return -1;
    if (client->motions >= want) break;
    if (wl_display_flush(display) < 0 && errno != EAGAIN) return -1;
    if (wl_display_prepare_read(display) != 0) continue;
    struct pollfd pfd = {wl_display_get_fd(display), POLLIN, 0};
    const int ready = poll(&pfd, 1, 2000);
    if (ready <= 0) {
      wl_display_cancel_read(display);
      return -1;
    }
    if (wl_display_read_events(display) < 0) return -1;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 7 || (strcmp(argv[1], "motion") != 0 && strcmp(argv[1], "key") != 0)) {
    fprintf(stderr,
            "usage: input-latency-client motion|key HOST_SOCKET WIDTH HEIGHT WARMUP COUNT\n");
    return 2;
  }
  key_mode = strcmp(argv[1], "key") == 0;
  argv += 1;
  const uint32_t width = (uint32_t)atoi(argv[2]);
  const uint32_t height = (uint32_t)atoi(argv[3]);
  const int warmup = atoi(argv[4]);
  const int count = atoi(argv[5]);
  if (width < 16 || height < 16 || width > 8192 || height > 8192 || warmup < 0 || count <= 0 ||
      count > 1000000) {
    return 2;
  }

  struct injector injector = {0};
  struct wl_display* host = wl_display_connect(argv[1]);
  if (host == NULL) wlcu_die("connect to the host compositor");
  wl_registry_add_listener(wl_display_get_registry(host), &injector_registry, &injector);
  if (wl_display_roundtrip(host) < 0) wlcu_die("host roundtrip");
  if (injector.seat == NULL || injector.manager == NULL || injector.keyboards == NULL) {
    fprintf(stderr, "input-latency-client: the host has no seat or no virtual pointer/keyboard\n");
    return 1;
  }
  struct zwlr_virtual_pointer_v1* device = NULL;
  struct zwp_virtual_keyboard_v1* keys = NULL;
  if (key_mode) {
    keys =
        zwp_virtual_keyboard_manager_v1_create_virtual_keyboard(injector.keyboards, injector.seat);
    int fd = memfd_create("input-latency-keymap", MFD_CLOEXEC);
    if (fd < 0 || write(fd, kKeymap, sizeof kKeymap) != (ssize_t)sizeof kKeymap) wlcu_die("keymap");
    zwp_virtual_keyboard_v1_keymap(keys, WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1, fd, sizeof kKeymap);
    close(fd);
  } else {
    device =
        zwlr_virtual_pointer_manager_v1_create_virtual_pointer(injector.manager, injector.seat);
  }
  if (wl_display_roundtrip(host) < 0) wlcu_die("host roundtrip");

  struct client client = {0};
  struct wl_display* display = wl_display_connect(NULL);
  if (display == NULL) wlcu_die("connect to WAYLAND_DISPLAY");
  wl_registry_add_listener(wl_display_get_registry(display), &client_registry, &client);
  if (wl_display_roundtrip(display) < 0 || wl_display_roundtrip(display) < 0) wlcu_die("roundtrip");
  if (client.compositor == NULL || client.shm == NULL || client.seat == NULL ||
      client.wm_base == NULL || (key_mode ? client.keyboard == NULL : client.pointer == NULL)) {
    fprintf(stderr, "input-latency-client: missing a global or the seat lacks the device\n");
    return 1;
  }
  struct wl_surface* surface = wl_compositor_create_surface(client.compositor);
  struct xdg_surface* xdg_surface = xdg_wm_base_get_xdg_surface(client.wm_base, surface);
  xdg_surface_add_listener(xdg_surface, &surface_listener, &client);
  struct xdg_toplevel* toplevel = xdg_surface_get_toplevel(xdg_surface);
  xdg_toplevel_set_title(toplevel, "input latency");
  wl_surface_commit(surface);
  while (client.configure_serial == 0) {
    if (wl_display_dispatch(display) < 0) wlcu_die("waiting for configure");
  }
  xdg_surface_ack_configure(xdg_surface, client.configure_serial);
  wl_surface_attach(surface, solid_buffer(client.shm, (int)width, (int)height), 0, 0);
  wl_surface_damage(surface, 0, 0, (int32_t)width, (int32_t)height);
  wl_surface_commit(surface);
  if (wl_display_roundtrip(display) < 0) wlcu_die("roundtrip after mapping");

  uint64_t* samples = calloc((size_t)count, sizeof *samples);
  if (samples == NULL) wlcu_die("calloc");
  for (int i = 0; i < warmup + count; ++i) {
    // For keys: x is the key, y its state (pressed on even events, released on odd ones).
    const uint32_t x = key_mode ? BENCH_KEY : width / 2 + (uint32_t)(i % 2) * 7;
    const uint32_t y = key_mode ? (uint32_t)(1 - i % 2) : height / 2 + (uint32_t)(i % 2) * 5;
    const int want = client.motions + 1;
    const uint64_t sent = now_ns();
    if (key_mode) {
      zwp_virtual_keyboard_v1_key(keys, (uint32_t)(sent / 1000000), x, y);
    } else {
      zwlr_virtual_pointer_v1_motion_absolute(device, (uint32_t)(sent / 1000000), x, y, width,
                                              height);
      zwlr_virtual_pointer_v1_frame(device);
    }
    if (wl_display_flush(host) < 0) wlcu_die("flush to the host");
    if (wait_motion(display, &client, want) < 0) {
      fprintf(stderr, "input-latency-client: event %d never arrived\n", i);
      return 1;
    }
    if (i >= warmup) {
      // The motion that arrived is the one just sent, not a late one (the surface fills the
      // output from its top left corner, so surface and output coordinates agree).
      if (client.last_x != (int)x || client.last_y != (int)y) {
        fprintf(stderr, "input-latency-client: event %d arrived as %d,%d, sent as %u,%u\n", i,
                client.last_x, client.last_y, x, y);
        return 1;
      }
      samples[i - warmup] = client.last_motion_ns - sent;
    }
    // The host's replies to the injector (none expected) must not pile up.
    if (wl_display_dispatch_pending(host) < 0) wlcu_die("host dispatch");
  }
  for (int i = 0; i < count; ++i) printf(i == 0 ? "%llu" : " %llu", (unsigned long long)samples[i]);
  printf("\n");
  free(samples);
  if (device != NULL) zwlr_virtual_pointer_v1_destroy(device);
  if (keys != NULL) zwp_virtual_keyboard_v1_destroy(keys);
  wl_display_roundtrip(host);
  wl_display_disconnect(display);
  wl_display_disconnect(host);
  return 0;
}
