// The demo guest's Wayland client: one window laid out as Android composes an app, a main
// surface with an animated frame plus two subsurfaces, a status bar at the top and a
// navigation bar at the bottom. Every layer's pixels live in its own named, sealed memfd region,
// made as the foundation's ashmem API makes them (`memfd_create("droidway-demo:<layer>")`,
// fixed size, `F_SEAL_GROW|F_SEAL_SHRINK`), so the display bridge forwards them untouched.
//
//   droidway-demo-client [--frames N] [--size WxH]
//
// --frames N   exit after N frames have been shown (default: run until closed or SIGTERM)
// --size WxH   window size in pixels (default 360x640; 64x96 up to 4096x4096)
//
// Colours (XRGB8888), so tests can find each layer on a screenshot: status bar 0xe8a01a, nav
// bar 0x1ae8a0, main background 0x283040 with a 16 px wide 0xf0f0f0 band that moves 4 px per
// frame. Prints "mapped" once the first frame is shown and "frames N" on a clean exit.
// Input (when the compositor has a seat): the pointer is drawn as a 12×12 0xff3060 square
// centred on it (the host's cursor is hidden over the window), each key typed adds an 8×8 0x60c0ff
// mark to a row under the status bar (up to a row's width), and a configure with a size redraws
// every layer at that size (printing "size WxH" when it changes after the first frame).
// Text: keys are read through the keymap the compositor sends (a key whose symbol is one
// printable character, or space), appended to the window's text and printed as "typed TEXT".
// Ctrl+C copies the text (text/plain;charset=utf-8; "copied TEXT"); Ctrl+V pastes the
// clipboard's text/plain;charset=utf-8 into it ("pasted-bytes N", then "pasted TEXT" with the
// first bytes that fit, control bytes shown as '?'). Exit
// status: 0 after N frames, a close request, SIGTERM or SIGINT; 1 when the connection fails; 2 on a
// usage error or a failed setup.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wayland-client.h>

#define WLCU_PROGRAM "droidway-demo-client"
#include "wl-client-util.h"
#include "xdg-shell-client-protocol.h"

// The bridge maps a guest app_id to `droidway.<app_id>` on the host, as it maps Android's
// `waydroid.<pkg>`: the demo's package name is "demo", its host window `droidway.demo`.
// `--app-id PKG` lets the fixture Android tools show a launched app as its own window.
static const char kDefaultAppId[] = "demo";
static const char kTitle[] = "Droidway demo";
enum { kMaxAppIdLength = 255 };
static const char kTextMime[] = "text/plain;charset=utf-8";
enum { kMaxText = 255, kMaxKeycodes = 256, kModControl = 4 };

enum {
  kStatusBarHeight = 24,
  kNavBarHeight = 48,
  kMainBuffers = 3,
  kBandWidth = 16,
  kBandStep = 4,
  kPointerSize = 12,
  kKeyMarkSize = 8,
  kKeyMarkStep = 12,
  kMinWidth = 64,
  kMinHeight = 96,
};

static const uint32_t kStatusBarColor = 0xffe8a01au;
static const uint32_t kNavBarColor = 0xff1ae8a0u;
static const uint32_t kBackgroundColor = 0xff283040u;
static const uint32_t kBandColor = 0xfff0f0f0u;
static const uint32_t kPointerColor = 0xffff3060u;
static const uint32_t kKeyMarkColor = 0xff60c0ffu;

// One memfd region and the wl_buffers carved from it.
struct demo_pool {
  int fd;
  uint32_t* pixels;
  size_t size;
};

struct demo_buffer {
  struct wl_buffer* buffer;
  uint32_t* pixels;
  bool busy;
};

struct demo {
  const char* app_id;
  struct wl_display* display;
  struct wl_registry* registry;
  struct wl_compositor* compositor;
  struct wl_subcompositor* subcompositor;
  struct wl_shm* shm;
  struct xdg_wm_base* wm_base;
  struct wl_seat* seat;
  struct wl_pointer* pointer;
  struct wl_keyboard* keyboard;
  struct wl_data_device_manager* data_manager;
  struct wl_data_device* data_device;
  // The host selection the guest may paste (NULL: none), and the types of offers seen.
  struct wl_data_offer* selection;
  struct wl_data_source* source;
  int paste_fd;
  long paste_bytes;
  // Keycode (wl, evdev numbering) → the character its keymap gives it (0: none).
  char keychars[kMaxKeycodes];
  uint32_t modifiers;
  char text[kMaxText + 1];

  struct wl_surface* surface;
  struct xdg_surface* xdg_surface;
  struct xdg_toplevel* toplevel;
  struct wl_surface* status_surface;
  struct wl_subsurface* status_subsurface;
  struct wl_surface* nav_surface;
  struct wl_subsurface* nav_subsurface;

  struct demo_pool main_pool;
  struct demo_pool status_pool;
  struct demo_pool nav_pool;
  struct demo_buffer main_buffers[kMainBuffers];
  struct wl_buffer* status_buffer;
  struct wl_buffer* nav_buffer;

  int32_t width;
  int32_t height;
  // The size the last toplevel configure asked for (0: the client chooses).
  int32_t configured_width;
  int32_t configured_height;
  bool pointer_inside;
  int32_t pointer_x;
  int32_t pointer_y;
  long keys_typed;
  long max_frames;  // 0: no limit
  long frames_shown;
  long frames_drawn;
  bool configured;
  bool waiting_for_buffer;  // a frame is due but every main buffer is still held by the server
  bool running;
  // The frame callback in flight; destroyed before the surfaces so that no `done` can arrive
  // during teardown and draw into a destroyed surface.
  struct wl_callback* frame_callback;
};

static void pointer_enter(void* data, struct wl_pointer* pointer, uint32_t serial,
                          struct wl_surface* surface, wl_fixed_t x, wl_fixed_t y) {
  struct demo* demo = data;
  // The client draws the pointer itself (as Android draws its own), so the host's cursor goes.
  wl_pointer_set_cursor(pointer, serial, NULL, 0, 0);
  // Only the main surface shows the pointer; over a bar it is hidden.
  demo->pointer_inside = surface == demo->surface;
  demo->pointer_x = wl_fixed_to_int(x);
  demo->pointer_y = wl_fixed_to_int(y);
}

static void pointer_leave(void* data, struct wl_pointer* pointer, uint32_t serial,
                          struct wl_surface* surface) {
  struct demo* demo = data;
  (void)pointer;
  (void)serial;
  (void)surface;
  demo->pointer_inside = false;
}

static void pointer_motion(void* data, struct wl_pointer* pointer, uint32_t time, wl_fixed_t x,
                           wl_fixed_t y) {
  struct demo* demo = data;
  (void)pointer;
  (void)time;
  demo->pointer_x = wl_fixed_to_int(x);
  demo->pointer_y = wl_fixed_to_int(y);
}

static void pointer_button(void* data, struct wl_pointer* pointer, uint32_t serial, uint32_t time,
                           uint32_t button, uint32_t state) {
  (void)data;
  (void)pointer;
  (void)serial;
  (void)time;
  (void)button;
  (void)state;
}

static void pointer_axis(void* data, struct wl_pointer* pointer, uint32_t time, uint32_t axis,
                         wl_fixed_t value) {
  (void)data;
  (void)pointer;
  (void)time;
  (void)axis;
  (void)value;
}

// Bound at wl_seat version 3: frame and the axis details (version 5+) never arrive.
static const struct wl_pointer_listener pointer_listener = {.enter = pointer_enter,
                                                            .leave = pointer_leave,
                                                            .motion = pointer_motion,
                                                            .button = pointer_button,
                                                            .axis = pointer_axis};

// The character of a keysym name: one printable ASCII character, or "space".
static char keysym_char(const char* name, size_t length) {
  if (length == 1 && name[0] > 0x20 && name[0] < 0x7f) return name[0];
  if (length == 5 && strncmp(name, "space", 5) == 0) return ' ';
  return 0;
}

// Reads the keymap's `<NAME> = CODE;` lines and the first symbol of each `key <NAME> {[ SYM`:
// enough for the keymaps of virtual keyboards (wtype) and the letters of ordinary layouts.
static void read_keymap(struct demo* demo, const char* map, size_t size) {
  memset(demo->keychars, 0, sizeof demo->keychars);
  enum { kMaxNames = 512 };
  static char names[kMaxNames][16];
  static int codes[kMaxNames];
  int count = 0;
  for (size_t i = 0; i < size && map[i] != '\0';) {
    size_t end = i;
    while (end < size && map[end] != '\n' && map[end] != '\0') ++end;
    char line[256];
    const size_t length = end - i < sizeof line - 1 ? end - i : sizeof line - 1;
    memcpy(line, map + i, length);
    line[length] = '\0';
    i = end + 1;
    char name[16];
    int code = 0;
    char sym[64];
    if (sscanf(line, " <%15[^>]> = %d ;", name, &code) == 2 && count < kMaxNames) {
      snprintf(names[count], sizeof names[count], "%s", name);
      codes[count++] = code;
    } else if (sscanf(line, " key <%15[^>]> { [ %63[^],} ]", name, sym) == 2 ||
               sscanf(line, " key <%15[^>]> {[ %63[^],} ]", name, sym) == 2 ||
               sscanf(line, " key <%15[^>]> {[%63[^],} ]", name, sym) == 2) {
      const char ch = keysym_char(sym, strlen(sym));
      for (int k = 0; k < count && ch != 0; ++k) {
        const int keycode = codes[k] - 8;
        if (strcmp(names[k], name) == 0 && keycode >= 0 && keycode < kMaxKeycodes)
          demo->keychars[keycode] = ch;
      }
    }
  }
}

static void keyboard_keymap(void* data, struct wl_keyboard* keyboard, uint32_t format, int fd,
                            uint32_t size) {
  struct demo* demo = data;
  (void)keyboard;
  if (format == WL_KEYBOARD_KEYMAP_FORMAT_XKB_V1 && size > 0 && size <= (1u << 24)) {
    char* map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
      read_keymap(demo, map, size);
      munmap(map, size);
    }
  }
  close(fd);
}

static void keyboard_enter(void* data, struct wl_keyboard* keyboard, uint32_t serial,
                           struct wl_surface* surface, struct wl_array* keys) {
  (void)data;
  (void)keyboard;
  (void)serial;
  (void)surface;
  (void)keys;
}

static void keyboard_leave(void* data, struct wl_keyboard* keyboard, uint32_t serial,
                           struct wl_surface* surface) {
  (void)data;
  (void)keyboard;
  (void)serial;
  (void)surface;
}

static void copy_text(struct demo* demo, uint32_t serial);
static void paste_text(struct demo* demo);

static void keyboard_key(void* data, struct wl_keyboard* keyboard, uint32_t serial, uint32_t time,
                         uint32_t key, uint32_t state) {
  struct demo* demo = data;
  (void)keyboard;
  (void)time;
  if (state != WL_KEYBOARD_KEY_STATE_PRESSED) return;
  const char ch = key < kMaxKeycodes ? demo->keychars[key] : 0;
  if ((demo->modifiers & kModControl) != 0 && (ch == 'c' || ch == 'C')) {
    copy_text(demo, serial);
    return;
  }
  if ((demo->modifiers & kModControl) != 0 && (ch == 'v' || ch == 'V')) {
    paste_text(demo);
    return;
  }
  ++demo->keys_typed;
  const size_t length = strlen(demo->text);
  if (ch != 0 && length < kMaxText) {
    demo->text[length] = ch;
    demo->text[length + 1] = '\0';
    printf("typed %s\n", demo->text);
    fflush(stdout);
  }
}

static void keyboard_modifiers(void* data, struct wl_keyboard* keyboard, uint32_t serial,
                               uint32_t depressed, uint32_t latched, uint32_t locked,
                               uint32_t group) {
  struct demo* demo = data;
  (void)keyboard;
  (void)serial;
  (void)group;
  demo->modifiers = depressed | latched | locked;
}

// --- Clipboard -------------------------------------------------------------------------------

static void source_target(void* data, struct wl_data_source* source, const char* mime) {
  (void)data;
  (void)source;
  (void)mime;
}

static void source_send(void* data, struct wl_data_source* source, const char* mime, int fd) {
  struct demo* demo = data;
  (void)source;
  if (strcmp(mime, kTextMime) == 0) {
    // The text is small; a reader that goes away only ends this write (SIGPIPE is ignored).
    const size_t length = strlen(demo->text);
    size_t done = 0;
    while (done < length) {
      const ssize_t n = write(fd, demo->text + done, length - done);
      if (n <= 0 && errno != EINTR) break;
      if (n > 0) done += (size_t)n;
    }
  }
  close(fd);
}

static void source_cancelled(void* data, struct wl_data_source* source) {
  struct demo* demo = data;
  if (demo->source == source) demo->source = NULL;
  wl_data_source_destroy(source);
}

static const struct wl_data_source_listener source_listener = {
    .target = source_target, .send = source_send, .cancelled = source_cancelled};

static void copy_text(struct demo* demo, uint32_t serial) {
  if (demo->data_manager == NULL || demo->data_device == NULL) return;
  if (demo->source != NULL) wl_data_source_destroy(demo->source);
  demo->source = wl_data_device_manager_create_data_source(demo->data_manager);
  wl_data_source_add_listener(demo->source, &source_listener, demo);
  wl_data_source_offer(demo->source, kTextMime);
  wl_data_device_set_selection(demo->data_device, demo->source, serial);
  printf("copied %s\n", demo->text);
  fflush(stdout);
}

#ifdef DROIDWAY_DEMO_HOSTILE_CLIPBOARD
#include <sys/socket.h>
// Test builds only (tests/integration/bridge-clipboard.test.ts): a guest that abuses the
// clipboard the way $DROIDWAY_DEMO_HOSTILE says, on Ctrl+V.
static bool hostile_paste(struct demo* demo) {
  const char* how = getenv("DROIDWAY_DEMO_HOSTILE");
  if (how == NULL) return false;
  printf("hostile %s\n", how);
  fflush(stdout);
  int fd = -1;
  if (strcmp(how, "flood-selection") == 0 || strcmp(how, "flood-offers") == 0) {
    const bool offers = how[6] == 'o';
    for (int i = 0; i < (offers ? 1 : 200); ++i) {
      struct wl_data_source* source = wl_data_device_manager_create_data_source(demo->data_manager);
      for (int k = 0; k < (offers ? 100 : 1); ++k) wl_data_source_offer(source, kTextMime);
      wl_data_device_set_selection(demo->data_device, source, 0);
    }
    return true;
  }
  if (demo->selection == NULL) return false;
  if (strcmp(how, "memfd") == 0) {
    fd = memfd_create("hostile", MFD_CLOEXEC);
  } else if (strcmp(how, "file") == 0) {
    fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  } else if (strcmp(how, "socket") == 0) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0) fd = pair[0];
  } else if (strcmp(how, "read-end") == 0) {
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) == 0) fd = ends[0];
  } else if (strcmp(how, "never-read") == 0) {
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) != 0) return true;
    wl_data_offer_receive(demo->selection, kTextMime, ends[1]);
    close(ends[1]);  // ends[0] is kept open and never read
    return true;
  }
  if (fd >= 0) wl_data_offer_receive(demo->selection, kTextMime, fd);
  return true;
}
#else
static bool hostile_paste(struct demo* demo) {
  (void)demo;
  return false;
}
#endif

static void paste_text(struct demo* demo) {
  if (hostile_paste(demo)) return;
  if (demo->selection == NULL || demo->paste_fd >= 0) {
    printf("paste-empty\n");
    fflush(stdout);
    return;
  }
  int ends[2];
  if (pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return;
  wl_data_offer_receive(demo->selection, kTextMime, ends[1]);
  close(ends[1]);
  demo->paste_fd = ends[0];
  demo->paste_bytes = 0;
}

// Reads what the clipboard's owner writes; the text keeps what fits.
static void paste_readable(struct demo* demo) {
  char chunk[4096];
  for (;;) {
    const ssize_t n = read(demo->paste_fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n > 0) {
      size_t length = strlen(demo->text);
      for (ssize_t i = 0; i < n && length < kMaxText; ++i) {
        const char ch = chunk[i];
        demo->text[length++] = ch >= 0x20 && ch < 0x7f ? ch : '?';
        ++demo->keys_typed;
      }
      demo->text[length] = '\0';
      demo->paste_bytes += n;
      continue;
    }
    close(demo->paste_fd);
    demo->paste_fd = -1;
    printf("pasted-bytes %ld\npasted %s\n", demo->paste_bytes, demo->text);
    fflush(stdout);
    return;
  }
}

static void offer_offer(void* data, struct wl_data_offer* offer, const char* mime) {
  (void)data;
  // Remembered on the offer: only an offer with plain UTF-8 text is pasted.
  if (strcmp(mime, kTextMime) == 0) wl_data_offer_set_user_data(offer, (void*)kTextMime);
}

static const struct wl_data_offer_listener offer_listener = {.offer = offer_offer};

static void device_data_offer(void* data, struct wl_data_device* device,
                              struct wl_data_offer* offer) {
  (void)device;
  (void)data;
  wl_data_offer_add_listener(offer, &offer_listener, NULL);
}

static void device_enter(void* data, struct wl_data_device* device, uint32_t serial,
                         struct wl_surface* surface, wl_fixed_t x, wl_fixed_t y,
                         struct wl_data_offer* offer) {
  (void)data;
  (void)device;
  (void)serial;
  (void)surface;
  (void)x;
  (void)y;
  if (offer != NULL) wl_data_offer_destroy(offer);  // no drag-and-drop
}

static void device_leave(void* data, struct wl_data_device* device) {
  (void)data;
  (void)device;
}

static void device_motion(void* data, struct wl_data_device* device, uint32_t time, wl_fixed_t x,
                          wl_fixed_t y) {
  (void)data;
  (void)device;
  (void)time;
  (void)x;
  (void)y;
}

static void device_drop(void* data, struct wl_data_device* device) {
  (void)data;
  (void)device;
}

static void device_selection(void* data, struct wl_data_device* device,
                             struct wl_data_offer* offer) {
  struct demo* demo = data;
  (void)device;
#ifdef DROIDWAY_DEMO_HOSTILE_CLIPBOARD
  printf("selection %s\n", offer != NULL ? "offer" : "none");
  fflush(stdout);
#endif
  if (demo->selection != NULL && demo->selection != offer) wl_data_offer_destroy(demo->selection);
  demo->selection = NULL;
  if (offer != NULL && wl_data_offer_get_user_data(offer) != NULL) {
    demo->selection = offer;
  } else if (offer != NULL) {
    wl_data_offer_destroy(offer);
  }
}

static const struct wl_data_device_listener device_listener = {.data_offer = device_data_offer,
                                                               .enter = device_enter,
                                                               .leave = device_leave,
                                                               .motion = device_motion,
                                                               .drop = device_drop,
                                                               .selection = device_selection};

static const struct wl_keyboard_listener keyboard_listener = {.keymap = keyboard_keymap,
                                                              .enter = keyboard_enter,
                                                              .leave = keyboard_leave,
                                                              .key = keyboard_key,
                                                              .modifiers = keyboard_modifiers};

// Input devices come and go with the seat's capabilities (a virtual keyboard exists only while
// it types); an object from before a loss is inert, so it is released and asked for again.
static void seat_capabilities(void* data, struct wl_seat* seat, uint32_t capabilities) {
  struct demo* demo = data;
  const bool has_pointer = (capabilities & WL_SEAT_CAPABILITY_POINTER) != 0;
  const bool has_keyboard = (capabilities & WL_SEAT_CAPABILITY_KEYBOARD) != 0;
  if (!has_pointer && demo->pointer != NULL) {
    wl_pointer_release(demo->pointer);
    demo->pointer = NULL;
    demo->pointer_inside = false;
  } else if (has_pointer && demo->pointer == NULL) {
    demo->pointer = wl_seat_get_pointer(seat);
    wl_pointer_add_listener(demo->pointer, &pointer_listener, demo);
  }
  if (!has_keyboard && demo->keyboard != NULL) {
    wl_keyboard_release(demo->keyboard);
    demo->keyboard = NULL;
  } else if (has_keyboard && demo->keyboard == NULL) {
    demo->keyboard = wl_seat_get_keyboard(seat);
    wl_keyboard_add_listener(demo->keyboard, &keyboard_listener, demo);
  }
}

static void seat_name(void* data, struct wl_seat* seat, const char* name) {
  (void)data;
  (void)seat;
  (void)name;
}

static const struct wl_seat_listener seat_listener = {seat_capabilities, seat_name};

static void registry_global(void* data, struct wl_registry* registry, uint32_t name,
                            const char* interface, uint32_t version) {
  struct demo* demo = data;
  const struct wlcu_global globals[] = {
      {&wl_compositor_interface, 4, (void**)&demo->compositor, 0},
      {&wl_subcompositor_interface, 1, (void**)&demo->subcompositor, 0},
      {&wl_shm_interface, 1, (void**)&demo->shm, 0},
      {&xdg_wm_base_interface, 1, (void**)&demo->wm_base, 0},
      // Version 3 for wl_pointer.release and wl_keyboard.release.
      {&wl_seat_interface, 3, (void**)&demo->seat, 3},
      {&wl_data_device_manager_interface, 3, (void**)&demo->data_manager, 0},
  };
  void* bound = wlcu_bind(registry, name, interface, version, globals, WLCU_COUNT(globals));
  if (bound != NULL && bound == demo->seat) wl_seat_add_listener(demo->seat, &seat_listener, demo);
}

static const struct wl_registry_listener registry_listener = {registry_global,
                                                              wlcu_global_remove_ignored};

static void wm_base_ping(void* data, struct xdg_wm_base* wm_base, uint32_t serial) {
  (void)data;
  xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {wm_base_ping};

// A named region of a fixed size, sealed against growing and shrinking: what Android's
// ashmem_create_region gives on a kernel without /dev/ashmem.
static void pool_create(struct demo_pool* pool, const char* layer, size_t size) {
  char name[64];
  snprintf(name, sizeof name, "droidway-demo:%s", layer);
  pool->size = size;
  pool->fd = wlcu_sealed_memfd(name, size);
  pool->pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, pool->fd, 0);
  if (pool->pixels == MAP_FAILED) wlcu_die("mmap");
}

static void pool_destroy(struct demo_pool* pool) {
  if (pool->pixels != NULL && pool->pixels != MAP_FAILED) munmap(pool->pixels, pool->size);
  if (pool->fd >= 0) close(pool->fd);
  pool->pixels = NULL;
  pool->fd = -1;
}

static void fill(uint32_t* pixels, size_t count, uint32_t color) {
  for (size_t i = 0; i < count; ++i) pixels[i] = color;
}

static void buffer_release(void* data, struct wl_buffer* buffer) {
  struct demo_buffer* slot = data;
  (void)buffer;
  slot->busy = false;
}

static const struct wl_buffer_listener buffer_listener = {buffer_release};

// A single-buffer layer (the bars never change, so the server may keep their buffer).
static struct wl_buffer* make_bar(struct demo* demo, struct demo_pool* pool, const char* layer,
                                  int32_t height, uint32_t color) {
  const size_t stride = (size_t)demo->width * 4;
  pool_create(pool, layer, stride * (size_t)height);
  fill(pool->pixels, pool->size / 4, color);
  struct wl_shm_pool* shm_pool = wl_shm_create_pool(demo->shm, pool->fd, (int32_t)pool->size);
  struct wl_buffer* buffer = wl_shm_pool_create_buffer(shm_pool, 0, demo->width, height,
                                                       (int32_t)stride, WL_SHM_FORMAT_XRGB8888);
  wl_shm_pool_destroy(shm_pool);
  return buffer;
}

static void make_buffers(struct demo* demo) {
  const size_t stride = (size_t)demo->width * 4;
  const size_t frame_size = stride * (size_t)demo->height;
  pool_create(&demo->main_pool, "main", frame_size * kMainBuffers);
  struct wl_shm_pool* shm_pool =
      wl_shm_create_pool(demo->shm, demo->main_pool.fd, (int32_t)demo->main_pool.size);
  for (int i = 0; i < kMainBuffers; ++i) {
    struct demo_buffer* slot = &demo->main_buffers[i];
    slot->pixels = demo->main_pool.pixels + (frame_size / 4) * (size_t)i;
    slot->buffer =
        wl_shm_pool_create_buffer(shm_pool, (int32_t)(frame_size * (size_t)i), demo->width,
                                  demo->height, (int32_t)stride, WL_SHM_FORMAT_XRGB8888);
    wl_buffer_add_listener(slot->buffer, &buffer_listener, slot);
  }
  wl_shm_pool_destroy(shm_pool);
  demo->status_buffer =
      make_bar(demo, &demo->status_pool, "status", kStatusBarHeight, kStatusBarColor);
  demo->nav_buffer = make_bar(demo, &demo->nav_pool, "nav", kNavBarHeight, kNavBarColor);
}

static void draw_frame(struct demo* demo, uint32_t* pixels) {
  const int32_t band = (int32_t)((demo->frames_drawn * kBandStep) % demo->width);
  for (int32_t y = 0; y < demo->height; ++y) {
    uint32_t* row = pixels + (size_t)y * (size_t)demo->width;
    for (int32_t x = 0; x < demo->width; ++x) {
      const int32_t dx = (x - band + demo->width) % demo->width;
      row[x] = dx < kBandWidth ? kBandColor : kBackgroundColor;
    }
  }
  // One mark per key typed, in a row under the status bar, as many as fit.
  const int32_t mark_y = kStatusBarHeight + 4;
  for (long i = 0; i < demo->keys_typed; ++i) {
    const int32_t mark_x = 4 + (int32_t)i * kKeyMarkStep;
    if (mark_x + kKeyMarkSize > demo->width || mark_y + kKeyMarkSize > demo->height) break;
    for (int32_t y = mark_y; y < mark_y + kKeyMarkSize; ++y) {
      fill(pixels + (size_t)y * (size_t)demo->width + (size_t)mark_x, kKeyMarkSize, kKeyMarkColor);
    }
  }
  if (!demo->pointer_inside) return;
  // The pointer: a square centred on it, clipped to the surface.
  const int32_t half = kPointerSize / 2;
  for (int32_t y = demo->pointer_y - half; y < demo->pointer_y + half; ++y) {
    if (y < 0 || y >= demo->height) continue;
    for (int32_t x = demo->pointer_x - half; x < demo->pointer_x + half; ++x) {
      if (x >= 0 && x < demo->width)
        pixels[(size_t)y * (size_t)demo->width + (size_t)x] = kPointerColor;
    }
  }
}

static void frame_done(void* data, struct wl_callback* callback, uint32_t time);
static const struct wl_callback_listener frame_listener = {frame_done};

// Draws the next frame into a free buffer and commits it with a frame callback, so the server
// paces the animation. With no free buffer, the frame waits for the next release.
static void present(struct demo* demo) {
  struct demo_buffer* slot = NULL;
  for (int i = 0; i < kMainBuffers && slot == NULL; ++i) {
    if (!demo->main_buffers[i].busy) slot = &demo->main_buffers[i];
  }
  if (slot == NULL) {
    demo->waiting_for_buffer = true;
    return;
  }
  demo->waiting_for_buffer = false;
  draw_frame(demo, slot->pixels);
  ++demo->frames_drawn;
  slot->busy = true;
  demo->frame_callback = wl_surface_frame(demo->surface);
  wl_callback_add_listener(demo->frame_callback, &frame_listener, demo);
  wl_surface_attach(demo->surface, slot->buffer, 0, 0);
  wl_surface_damage_buffer(demo->surface, 0, 0, demo->width, demo->height);
  wl_surface_commit(demo->surface);
}

static void frame_done(void* data, struct wl_callback* callback, uint32_t time) {
  struct demo* demo = data;
  (void)time;
  wl_callback_destroy(callback);
  demo->frame_callback = NULL;
  if (++demo->frames_shown == 1) {
    printf("mapped\n");
    fflush(stdout);
  }
  if (demo->max_frames > 0 && demo->frames_shown >= demo->max_frames) {
    demo->running = false;
    return;
  }
  present(demo);
}

// Bars are committed once; as synchronized subsurfaces, their state and positions take effect
// with the main surface's next commit.
static void show_bars(struct demo* demo) {
  wl_subsurface_set_position(demo->status_subsurface, 0, 0);
  wl_surface_attach(demo->status_surface, demo->status_buffer, 0, 0);
  wl_surface_damage_buffer(demo->status_surface, 0, 0, demo->width, kStatusBarHeight);
  wl_surface_commit(demo->status_surface);
  wl_subsurface_set_position(demo->nav_subsurface, 0, demo->height - kNavBarHeight);
  wl_surface_attach(demo->nav_surface, demo->nav_buffer, 0, 0);
  wl_surface_damage_buffer(demo->nav_surface, 0, 0, demo->width, kNavBarHeight);
  wl_surface_commit(demo->nav_surface);
}

static void destroy_buffers(struct demo* demo) {
  for (int i = 0; i < kMainBuffers; ++i) {
    if (demo->main_buffers[i].buffer != NULL) wl_buffer_destroy(demo->main_buffers[i].buffer);
    demo->main_buffers[i].buffer = NULL;
    demo->main_buffers[i].busy = false;
  }
  if (demo->nav_buffer != NULL) wl_buffer_destroy(demo->nav_buffer);
  if (demo->status_buffer != NULL) wl_buffer_destroy(demo->status_buffer);
  demo->nav_buffer = demo->status_buffer = NULL;
  pool_destroy(&demo->main_pool);
  pool_destroy(&demo->status_pool);
  pool_destroy(&demo->nav_pool);
}

static void xdg_surface_configure(void* data, struct xdg_surface* xdg_surface, uint32_t serial) {
  struct demo* demo = data;
  xdg_surface_ack_configure(xdg_surface, serial);
  int32_t width = demo->configured_width > 0 ? demo->configured_width : demo->width;
  int32_t height = demo->configured_height > 0 ? demo->configured_height : demo->height;
  width = width < kMinWidth ? kMinWidth : width > 4096 ? 4096 : width;
  height = height < kMinHeight ? kMinHeight : height > 4096 ? 4096 : height;
  if (demo->configured && width == demo->width && height == demo->height) {
    // The same size: the ack needs a commit.
    wl_surface_commit(demo->surface);
    return;
  }
  // The first configure, or a new size (a tiling compositor decides it): every layer is drawn at
  // that size, in new fixed-size regions, as an Android app relayouts.
  const bool resized = demo->configured;
  destroy_buffers(demo);
  demo->width = width;
  demo->height = height;
  make_buffers(demo);
  demo->configured = true;
  show_bars(demo);
  if (demo->frame_callback == NULL) present(demo);
  if (resized) {
    printf("size %dx%d\n", demo->width, demo->height);
    fflush(stdout);
  }
}

static const struct xdg_surface_listener xdg_surface_listener = {xdg_surface_configure};

static void toplevel_configure(void* data, struct xdg_toplevel* toplevel, int32_t width,
                               int32_t height, struct wl_array* states) {
  struct demo* demo = data;
  (void)toplevel;
  (void)states;
  demo->configured_width = width;
  demo->configured_height = height;
}

static void toplevel_close(void* data, struct xdg_toplevel* toplevel) {
  struct demo* demo = data;
  (void)toplevel;
  demo->running = false;
}

// Bound at version 1, so configure_bounds (v4) and wm_capabilities (v5) never arrive.
static const struct xdg_toplevel_listener toplevel_listener = {.configure = toplevel_configure,
                                                               .close = toplevel_close};

static long parse_long(const char* text, long min, long max, const char* what) {
  char* end = NULL;
  errno = 0;
  const long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
    fprintf(stderr, "droidway-demo-client: %s must be an integer in %ld..%ld\n", what, min, max);
    exit(2);
  }
  return value;
}

// An Android package name's characters; the bridge sanitizes app_ids anyway.
static int valid_app_id(const char* id) {
  const size_t length = strlen(id);
  if (length == 0 || length > kMaxAppIdLength) return 0;
  for (size_t i = 0; i < length; ++i) {
    const char c = id[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_'))
      return 0;
  }
  return 1;
}

static void parse_args(struct demo* demo, int argc, char** argv) {
  demo->width = 360;
  demo->height = 640;
  demo->app_id = kDefaultAppId;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--app-id") == 0 && i + 1 < argc) {
      demo->app_id = argv[++i];
      if (!valid_app_id(demo->app_id)) {
        fprintf(stderr, "droidway-demo-client: --app-id must be 1..%d of [A-Za-z0-9._]\n",
                kMaxAppIdLength);
        exit(2);
      }
      continue;
    }
    if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc) {
      demo->max_frames = parse_long(argv[++i], 1, 100000000, "--frames");
    } else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
      char* size = argv[++i];
      char* x = strchr(size, 'x');
      if (x == NULL) {
        fprintf(stderr, "droidway-demo-client: --size must be WxH\n");
        exit(2);
      }
      *x = '\0';
      demo->width = (int32_t)parse_long(size, 64, 4096, "--size width");
      demo->height = (int32_t)parse_long(x + 1, 96, 4096, "--size height");
    } else {
      fprintf(stderr, "usage: droidway-demo-client [--frames N] [--size WxH] [--app-id ID]\n");
      exit(2);
    }
  }
}

static void connect_demo(struct demo* demo) {
  demo->display = wl_display_connect(NULL);
  if (demo->display == NULL) wlcu_die("wl_display_connect");
  demo->registry = wl_display_get_registry(demo->display);
  wl_registry_add_listener(demo->registry, &registry_listener, demo);
  if (wl_display_roundtrip(demo->display) < 0) wlcu_die("registry round trip");
  if (demo->compositor == NULL || demo->subcompositor == NULL || demo->shm == NULL ||
      demo->wm_base == NULL) {
    fprintf(stderr,
            "droidway-demo-client: the compositor lacks wl_compositor, wl_subcompositor, wl_shm "
            "or xdg_wm_base\n");
    exit(2);
  }
  xdg_wm_base_add_listener(demo->wm_base, &wm_base_listener, demo);
  if (demo->data_manager != NULL && demo->seat != NULL) {
    demo->data_device = wl_data_device_manager_get_data_device(demo->data_manager, demo->seat);
    wl_data_device_add_listener(demo->data_device, &device_listener, demo);
  }
}

static void create_window(struct demo* demo) {
  // The buffers are made at the first configure, at the size it asks for (or --size).
  demo->surface = wl_compositor_create_surface(demo->compositor);
  demo->status_surface = wl_compositor_create_surface(demo->compositor);
  demo->nav_surface = wl_compositor_create_surface(demo->compositor);
  demo->status_subsurface =
      wl_subcompositor_get_subsurface(demo->subcompositor, demo->status_surface, demo->surface);
  demo->nav_subsurface =
      wl_subcompositor_get_subsurface(demo->subcompositor, demo->nav_surface, demo->surface);
  demo->xdg_surface = xdg_wm_base_get_xdg_surface(demo->wm_base, demo->surface);
  xdg_surface_add_listener(demo->xdg_surface, &xdg_surface_listener, demo);
  demo->toplevel = xdg_surface_get_toplevel(demo->xdg_surface);
  xdg_toplevel_add_listener(demo->toplevel, &toplevel_listener, demo);
  xdg_toplevel_set_title(demo->toplevel, kTitle);
  xdg_toplevel_set_app_id(demo->toplevel, demo->app_id);
  // The initial commit, without a buffer, asks for the first configure.
  wl_surface_commit(demo->surface);
}

static void destroy_demo(struct demo* demo) {
  if (demo->paste_fd >= 0) close(demo->paste_fd);
  if (demo->source != NULL) wl_data_source_destroy(demo->source);
  if (demo->selection != NULL) wl_data_offer_destroy(demo->selection);
  if (demo->data_device != NULL) wl_data_device_release(demo->data_device);
  if (demo->data_manager != NULL) wl_data_device_manager_destroy(demo->data_manager);
  if (demo->frame_callback != NULL) wl_callback_destroy(demo->frame_callback);
  if (demo->pointer != NULL) wl_pointer_release(demo->pointer);
  if (demo->keyboard != NULL) wl_keyboard_release(demo->keyboard);
  if (demo->seat != NULL) wl_seat_destroy(demo->seat);
  if (demo->toplevel != NULL) xdg_toplevel_destroy(demo->toplevel);
  if (demo->xdg_surface != NULL) xdg_surface_destroy(demo->xdg_surface);
  if (demo->nav_subsurface != NULL) wl_subsurface_destroy(demo->nav_subsurface);
  if (demo->status_subsurface != NULL) wl_subsurface_destroy(demo->status_subsurface);
  if (demo->nav_surface != NULL) wl_surface_destroy(demo->nav_surface);
  if (demo->status_surface != NULL) wl_surface_destroy(demo->status_surface);
  if (demo->surface != NULL) wl_surface_destroy(demo->surface);
  for (int i = 0; i < kMainBuffers; ++i) {
    if (demo->main_buffers[i].buffer != NULL) wl_buffer_destroy(demo->main_buffers[i].buffer);
  }
  if (demo->nav_buffer != NULL) wl_buffer_destroy(demo->nav_buffer);
  if (demo->status_buffer != NULL) wl_buffer_destroy(demo->status_buffer);
  if (demo->wm_base != NULL) xdg_wm_base_destroy(demo->wm_base);
  if (demo->shm != NULL) wl_shm_destroy(demo->shm);
  if (demo->subcompositor != NULL) wl_subcompositor_destroy(demo->subcompositor);
  if (demo->compositor != NULL) wl_compositor_destroy(demo->compositor);
  if (demo->registry != NULL) wl_registry_destroy(demo->registry);
  // Flushes the destroy requests, so the server sees an orderly teardown before the hang-up.
  wl_display_roundtrip(demo->display);
  wl_display_disconnect(demo->display);
  pool_destroy(&demo->main_pool);
  pool_destroy(&demo->status_pool);
  pool_destroy(&demo->nav_pool);
}

// Dispatches until a stop condition; the signalfd turns SIGTERM/SIGINT into an ordinary event,
// so the loop ends with the window torn down in order rather than in a handler.
static int run_loop(struct demo* demo, int signal_fd) {
  while (demo->running) {
    while (wl_display_prepare_read(demo->display) != 0) {
      if (wl_display_dispatch_pending(demo->display) < 0) return -1;
    }
    if (wl_display_flush(demo->display) < 0 && errno != EAGAIN) {
      wl_display_cancel_read(demo->display);
      return -1;
    }
    struct pollfd fds[3] = {{wl_display_get_fd(demo->display), POLLIN, 0},
                            {signal_fd, POLLIN, 0},
                            {demo->paste_fd, POLLIN, 0}};
    if (poll(fds, demo->paste_fd >= 0 ? 3 : 2, -1) < 0) {
      wl_display_cancel_read(demo->display);
      if (errno == EINTR) continue;
      return -1;
    }
    if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
      if (wl_display_read_events(demo->display) < 0) return -1;
    } else {
      wl_display_cancel_read(demo->display);
    }
    if (wl_display_dispatch_pending(demo->display) < 0) return -1;
    if (demo->paste_fd >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)))
      paste_readable(demo);
    if (demo->waiting_for_buffer) present(demo);
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo info;
      if (read(signal_fd, &info, sizeof info) == (ssize_t)sizeof info) demo->running = false;
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  struct demo demo;
  memset(&demo, 0, sizeof demo);
  demo.main_pool.fd = demo.status_pool.fd = demo.nav_pool.fd = -1;
  demo.paste_fd = -1;
  signal(SIGPIPE, SIG_IGN);
  parse_args(&demo, argc, argv);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  if (sigprocmask(SIG_BLOCK, &signals, NULL) < 0) wlcu_die("sigprocmask");
  const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (signal_fd < 0) wlcu_die("signalfd");

  connect_demo(&demo);
  create_window(&demo);
  demo.running = true;
  if (run_loop(&demo, signal_fd) < 0) {
    const int error = wl_display_get_error(demo.display);
    fprintf(stderr, "droidway-demo-client: connection failed: %s\n",
            strerror(error != 0 ? error : errno));
    wl_display_disconnect(demo.display);
    return 1;
  }
  const long shown = demo.frames_shown;
  destroy_demo(&demo);
  close(signal_fd);
  printf("frames %ld\n", shown);
  return 0;
}
