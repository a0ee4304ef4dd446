// What the guest-side Wayland clients share: the demo guest's client, the bridge test fixtures
// (tests/fixtures/bridge) and the benchmark baselines (tests/bench/baseline) include this header.
// Header-only, so each client still builds from its one .c file:
//
//   #define _GNU_SOURCE                      (for memfd_create)
//   #define WLCU_PROGRAM "input-client"      (the name error messages start with)
//   #include "wl-client-util.h"
//
// Optionally define WLCU_DIE_STATUS (default 2) for the exit status of wlcu_die.
#ifndef DROIDWAY_WL_CLIENT_UTIL_H
#define DROIDWAY_WL_CLIENT_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#ifndef WLCU_PROGRAM
#error "define WLCU_PROGRAM (the client's name for its error messages) before including"
#endif
#ifndef WLCU_DIE_STATUS
#define WLCU_DIE_STATUS 2
#endif

/** Prints "PROGRAM: what: strerror(errno)" to stderr and exits with WLCU_DIE_STATUS. */
static inline __attribute__((noreturn)) void wlcu_die(const char* what) {
  fprintf(stderr, "%s: %s: %s\n", WLCU_PROGRAM, what, strerror(errno));
  exit(WLCU_DIE_STATUS);
}

/** One global a client binds; see wlcu_bind. */
struct wlcu_global {
  /** The interface, e.g. &wl_compositor_interface; its name is matched against the registry. */
  const struct wl_interface* interface;
  /** The highest version the client speaks: it binds the smaller of this and the advertised one. */
  uint32_t version;
  /** Where the bound proxy goes, e.g. (void**)&app->compositor; only the first global is bound. */
  void** proxy;
  /** Globals advertised below this version are left unbound (0: any version). */
  uint32_t min_version;
};

/**
 * For a wl_registry.global event: binds the global if `globals` lists its interface, its version
 * is at least the entry's min_version and the entry's proxy is still unset. Returns the new proxy
 * (so the caller can add its listener), or NULL when nothing was bound.
 */
static inline void* wlcu_bind(struct wl_registry* registry, uint32_t name, const char* interface,
                              uint32_t version, const struct wlcu_global* globals, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const struct wlcu_global* global = &globals[i];
    if (strcmp(interface, global->interface->name) != 0) continue;
    if (version < global->min_version || *global->proxy != NULL) return NULL;
    const uint32_t bound = version < global->version ? version : global->version;
    *global->proxy = wl_registry_bind(registry, name, global->interface, bound);
    return *global->proxy;
  }
  return NULL;
}

/** The number of entries in a wlcu_global array. */
#define WLCU_COUNT(array) (sizeof(array) / sizeof((array)[0]))

/** A wl_registry.global_remove handler for clients that ignore removals. */
static inline void wlcu_global_remove_ignored(void* data, struct wl_registry* registry,
                                              uint32_t name) {
  (void)data, (void)registry, (void)name;
}

/**
 * A memfd of `size` bytes (close-on-exec) sealed against growing and shrinking, as the bridge
 * requires of shm pools and as Android's ashmem_create_region makes them without /dev/ashmem.
 * Exits through wlcu_die on failure.
 */
static inline int wlcu_sealed_memfd(const char* name, size_t size) {
  const int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) wlcu_die("memfd_create");
  if (ftruncate(fd, (off_t)size) < 0) wlcu_die("ftruncate");
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) wlcu_die("F_ADD_SEALS");
  return fd;
}

/** A wl_buffer with its own pool, and its pixels mapped for the client to draw. */
struct wlcu_buffer {
  struct wl_buffer* buffer;
  uint32_t* pixels;
  /** Bytes mapped at `pixels`: 4 * width * height. */
  size_t size;
};

/**
 * A width x height buffer of a 4-byte `format` (e.g. WL_SHM_FORMAT_XRGB8888) in a sealed memfd
 * of its own; the pool and the fd are released once the buffer holds them. The pixels stay mapped
 * until wlcu_buffer_unmap. Exits through wlcu_die on failure.
 */
static inline struct wlcu_buffer wlcu_shm_buffer(struct wl_shm* shm, const char* name,
                                                 int32_t width, int32_t height, uint32_t format) {
  const int32_t stride = width * 4;
  const size_t size = (size_t)stride * (size_t)height;
  const int fd = wlcu_sealed_memfd(name, size);
  uint32_t* pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (pixels == MAP_FAILED) wlcu_die("mmap");
  struct wl_shm_pool* pool = wl_shm_create_pool(shm, fd, (int32_t)size);
  struct wl_buffer* buffer = wl_shm_pool_create_buffer(pool, 0, width, height, stride, format);
  wl_shm_pool_destroy(pool);
  close(fd);
  return (struct wlcu_buffer){buffer, pixels, size};
}

/** Unmaps the pixels of a wlcu_shm_buffer (the wl_buffer itself stays valid). */
static inline void wlcu_buffer_unmap(struct wlcu_buffer* buffer) {
  munmap(buffer->pixels, buffer->size);
  buffer->pixels = NULL;
}

#endif  // DROIDWAY_WL_CLIENT_UTIL_H
