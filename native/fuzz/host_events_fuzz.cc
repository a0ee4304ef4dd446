// libFuzzer target: the bridge's reading of a host connection (host_connection.cc) on raw bytes
// from the host's side, malformed ones included: the groups it hands libwayland-client, the
// wl_display.error it takes, the watched events it reads argument by argument (a data device's,
// with offers the bridge destroyed named in them, and a pointer's), fds in any number, and the
// host hanging up. Real libwayland-client proxies on the bridge's side, no compositor: the input
// is the host. Beyond the sanitizers, LeakSanitizer is the check that matters: libwayland makes
// the proxies of a read's new objects before it fails the read, and a proxy made and never
// dispatched is a leak. A connection that failed must stay failed.
//
// Input: records, each an op byte then its operands (zeros past the end):
//   op % 4 == 0: 2-byte length N, then N bytes the host writes; the bridge reads what is readable
//   op % 4 == 1: the guest destroys offer (next byte % offers): the relay's destroy of its proxy
//   op % 4 == 2: fd count C (next byte % 32: past 28 too), 1-byte length N (at least 1), N bytes
//                written with C fds (a pipe's read end) in one sendmsg; then a read
//   op % 4 == 3: a flush of the bridge's requests (the host never reads them: its socket fills)
// The host end is closed at the end of the input and read once more.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "../src/bridge/host_connection.h"
#include "../src/bridge/socket_io.h"
#include "../src/bridge/wayland_headers.h"
#include "../src/unique_fd.h"
#include "../tests/host_side.h"
#include "fuzz_input.h"

using droidway::NativeStatus;
using droidway::UniqueFd;
using droidway::bridge::HostConnection;
using droidway::test::HostSide;

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

using Reader = droidway::fuzz::FuzzInput;

int g_pipe_read = -1;

// Up to 31 fds: past libwayland's 28, to reach the bridge's refusal.
bool SendCopies(int fd, const uint8_t* bytes, size_t size, size_t fds) {
  const std::vector<int> list(fds, g_pipe_read);
  return droidway::bridge::SendWithFds(fd, bytes, size, list, droidway::bridge::kMaxFdsForTests) >=
         0;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  int ends[2];
  Require(::pipe2(ends, O_CLOEXEC) == 0);
  g_pipe_read = ends[0];  // kept for the whole run; the write end is not needed
  ::close(ends[1]);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int ends[2];
  Require(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, ends) == 0);
  UniqueFd host(ends[1]);
  UniqueFd bridge_end(ends[0]);
  std::unique_ptr<HostConnection> connection;
  Require(
      HostConnection::Connect("/fuzz", &connection, [&bridge_end](UniqueFd* out) -> NativeStatus {
        *out = std::move(bridge_end);
        return {};
      }).ok());
  {
    HostSide side(connection.get());
    Reader in(data, size);
    bool failed = false;
    auto read = [&]() {
      const NativeStatus status = connection->DispatchReadable();
      if (failed) Require(!status.ok());  // a failed connection stays failed
      if (!status.ok()) {
        failed = true;
        Require(!connection->ErrorText().empty());
      }
    };
    while (!in.done()) {
      const uint8_t op = in.Byte();
      switch (op % 4) {
        case 0: {
          const size_t want = in.Byte() | (static_cast<size_t>(in.Byte()) << 8);
          const uint8_t* bytes = nullptr;
          const size_t n = in.Take(want, &bytes);
          if (n > 0 && ::send(host.get(), bytes, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) break;
          read();
          break;
        }
        case 1: {
          if (side.offers.empty()) break;
          const size_t index = in.Byte() % side.offers.size();
          side.Destroy(connection.get(), side.offers[index]);
          break;
        }
        case 2: {
          const size_t fds = in.Byte() % 32;
          const size_t want = std::max<size_t>(1, in.Byte());
          const uint8_t* bytes = nullptr;
          size_t n = in.Take(want, &bytes);
          static const uint8_t kZero = 0;
          if (n == 0) {
            bytes = &kZero;
            n = 1;
          }
          if (!SendCopies(host.get(), bytes, n, fds)) break;
          read();
          break;
        }
        default: {
          bool blocked = false;
          const NativeStatus status = connection->Flush(&blocked);
          if (failed) Require(!status.ok());
          break;
        }
      }
    }
    host.reset();
    // The host hung up: the connection ends, one way or another, once the bytes before are read.
    for (int reads = 0; reads < 64 && !failed; ++reads) read();
    Require(failed);
  }
  connection.reset();
  return 0;
}
