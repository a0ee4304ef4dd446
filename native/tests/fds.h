// The fds the unit tests hand to the checks: real kernel objects (memfds with and without
// sealing, pipes, sockets, files on disk and on /dev/shm, directories), owned by UniqueFd.
#ifndef DROIDWAY_NATIVE_TESTS_FDS_H_
#define DROIDWAY_NATIVE_TESTS_FDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "../src/unique_fd.h"

namespace droidway {
namespace test {

/** A memfd of `size` bytes (MFD_ALLOW_SEALING when `sealable`), then `seals` added; -1 on error. */
UniqueFd Memfd(int64_t size, bool sealable = true, int seals = 0);
/** The same memfd reopened through /proc/self/fd with `flags` (O_RDONLY, …). */
UniqueFd Reopen(int fd, int flags);
/** The two ends of a pipe. */
bool Pipe(UniqueFd* read_end, UniqueFd* write_end);
/** One end of a socketpair (the other is closed). */
UniqueFd Socket();
/** An unnamed regular file of `size` bytes in the current directory (O_TMPFILE). */
UniqueFd DiskFile(int64_t size);
/** A file of `size` bytes made with shm_open (tmpfs, not a memfd: it cannot be sealed). */
UniqueFd ShmOpenFile(int64_t size);
/** The current directory, opened read-only. */
UniqueFd Directory();
/** An fd number that is not open. */
int ClosedFd();
/** F_GET_SEALS of `fd` (negative when unsupported). */
int Seals(int fd);
/** `size` bytes of `fd` from offset 0 (pread; shorter at end of file). */
std::vector<uint8_t> ReadAll(int fd, size_t size);
/** Writes `bytes` at offset 0 with pwrite; true when all were written. */
bool WriteAt0(int fd, const std::vector<uint8_t>& bytes);
/** A pattern of `size` bytes, different for each `seed`. */
std::vector<uint8_t> Pattern(size_t size, uint8_t seed);
/** The filesystem magic (fstatfs f_type) of `fd`. */
uint32_t FsMagic(int fd);

constexpr uint32_t kTmpfsMagic = 0x01021994;

}  // namespace test
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_TESTS_FDS_H_
