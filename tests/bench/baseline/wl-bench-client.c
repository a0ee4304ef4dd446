// The display bridge benchmark's Wayland client, run once against weston directly and once
// through the bridge (the compositor is chosen by WAYLAND_DISPLAY, as for any client).
//
//   wl-bench-client SYNCS COMMITS BATCH
//
// 1. SYNCS `wl_display_sync` round trips, each timed alone;
// 2. COMMITS attach+damage+commit of one pre-made 64×64 shm buffer on a role-less surface,
//    with a `wl_display_roundtrip` after every BATCH commits (so the compositor has processed
//    each batch before the next is sent), timed as a whole.
// Prints one line: `sync_p50_ns sync_p99_ns commit_ns` (commit_ns = total time / COMMITS).
// Exits 2 with a message on stderr on any failure.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#define WLCU_PROGRAM "wl-bench-client"
#include "../../../native/guest/wl-client-util.h"

enum { kWidth = 64, kHeight = 64, kMaxCount = 10000000 };

struct bench {
  struct wl_compositor* compositor;
  struct wl_shm* shm;
};

static void registry_global(void* data, struct wl_registry* registry, uint32_t name,
                            const char* interface, uint32_t version) {
  struct bench* bench = data;
  const struct wlcu_global globals[] = {
      {&wl_compositor_interface, 1, (void**)&bench->compositor, 0},
      {&wl_shm_interface, 1, (void**)&bench->shm, 0},
  };
  wlcu_bind(registry, name, interface, version, globals, WLCU_COUNT(globals));
}

static const struct wl_registry_listener registry_listener = {registry_global,
                                                              wlcu_global_remove_ignored};

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int compare_i64(const void* a, const void* b) {
  const int64_t x = *(const int64_t*)a;
  const int64_t y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

static long parse_count(const char* text, const char* name) {
  char* end = NULL;
  errno = 0;
  const long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 1 || value > kMaxCount) {
    fprintf(stderr, "wl-bench-client: %s must be an integer in 1..%d\n", name, kMaxCount);
    exit(2);
  }
  return value;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: wl-bench-client SYNCS COMMITS BATCH\n");
    return 2;
  }
  const long syncs = parse_count(argv[1], "SYNCS");
  const long commits = parse_count(argv[2], "COMMITS");
  const long batch = parse_count(argv[3], "BATCH");

  struct wl_display* display = wl_display_connect(NULL);
  if (display == NULL) wlcu_die("wl_display_connect");
  struct bench bench = {0};
  struct wl_registry* registry = wl_display_get_registry(display);
  wl_registry_add_listener(registry, &registry_listener, &bench);
  if (wl_display_roundtrip(display) < 0) wlcu_die("registry round trip");
  if (bench.compositor == NULL || bench.shm == NULL) {
    fprintf(stderr, "wl-bench-client: wl_compositor or wl_shm missing\n");
    return 2;
  }

  int64_t* samples = calloc((size_t)syncs, sizeof *samples);
  if (samples == NULL) wlcu_die("calloc");
  for (long i = 0; i < syncs; ++i) {
    const int64_t start = now_ns();
    if (wl_display_roundtrip(display) < 0) wlcu_die("sync round trip");
    samples[i] = now_ns() - start;
  }
  qsort(samples, (size_t)syncs, sizeof *samples, compare_i64);
  const int64_t p50 = samples[(syncs - 1) / 2];
  const int64_t p99 = samples[(syncs * 99 - 1) / 100];
  free(samples);

  // Sealed as the bridge requires, and as the guest's ashmem regions are.
  struct wlcu_buffer shm_buffer =
      wlcu_shm_buffer(bench.shm, "droidway-bench-pool", kWidth, kHeight, WL_SHM_FORMAT_XRGB8888);
  for (size_t i = 0; i < shm_buffer.size / 4; ++i) shm_buffer.pixels[i] = 0xff3060a0u;
  struct wl_buffer* buffer = shm_buffer.buffer;
  struct wl_surface* surface = wl_compositor_create_surface(bench.compositor);
  if (wl_display_roundtrip(display) < 0) wlcu_die("setup round trip");

  const int64_t start = now_ns();
  for (long i = 1; i <= commits; ++i) {
    wl_surface_attach(surface, buffer, 0, 0);
    wl_surface_damage(surface, 0, 0, kWidth, kHeight);
    wl_surface_commit(surface);
    if (i % batch == 0 || i == commits) {
      if (wl_display_roundtrip(display) < 0) wlcu_die("commit round trip");
    }
  }
  const int64_t commit_ns = (now_ns() - start) / commits;

  wl_surface_destroy(surface);
  wl_buffer_destroy(buffer);
  wlcu_buffer_unmap(&shm_buffer);
  wl_display_roundtrip(display);
  wl_display_disconnect(display);
  printf("%lld %lld %lld\n", (long long)p50, (long long)p99, (long long)commit_ns);
  return 0;
}
