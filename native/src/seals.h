// memfd seal bits. glibc 2.36 lacks the newer ones, so they are spelled out from
// include/uapi/linux/fcntl.h.
#ifndef DROIDWAY_NATIVE_SEALS_H_
#define DROIDWAY_NATIVE_SEALS_H_

#include <fcntl.h>

#define DROIDWAY_F_SEAL_SEAL 0x0001
#define DROIDWAY_F_SEAL_SHRINK 0x0002
#define DROIDWAY_F_SEAL_GROW 0x0004
#define DROIDWAY_F_SEAL_WRITE 0x0008
#define DROIDWAY_F_SEAL_FUTURE_WRITE 0x0010  // Linux 5.1
#define DROIDWAY_F_SEAL_EXEC 0x0020          // Linux 6.3

static_assert(F_SEAL_SEAL == DROIDWAY_F_SEAL_SEAL && F_SEAL_SHRINK == DROIDWAY_F_SEAL_SHRINK &&
                  F_SEAL_GROW == DROIDWAY_F_SEAL_GROW && F_SEAL_WRITE == DROIDWAY_F_SEAL_WRITE,
              "seal bits disagree with <fcntl.h>");

#endif  // DROIDWAY_NATIVE_SEALS_H_
