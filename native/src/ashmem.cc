#include "ashmem.h"

#include <fcntl.h>
#include <linux/ioctl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#ifndef DROIDWAY_NATIVE_NO_NAPI
#include "js_args.h"
#endif
#include "seals.h"

// The ashmem ioctls are Android's (drivers/staging/android/uapi/ashmem.h); the kernel's exported
// uapi headers do not carry them.
#define DROIDWAY_ASHMEM_NAME_LEN 256
#define DROIDWAY_ASHMEM_IOC 0x77
#define DROIDWAY_ASHMEM_SET_NAME _IOW(DROIDWAY_ASHMEM_IOC, 1, char[DROIDWAY_ASHMEM_NAME_LEN])
#define DROIDWAY_ASHMEM_SET_SIZE _IOW(DROIDWAY_ASHMEM_IOC, 3, size_t)
#define DROIDWAY_ASHMEM_GET_SIZE _IO(DROIDWAY_ASHMEM_IOC, 4)
#define DROIDWAY_ASHMEM_SET_PROT_MASK _IOW(DROIDWAY_ASHMEM_IOC, 5, unsigned long)

namespace droidway {
namespace {

constexpr const char* kAshmemDevice = "/dev/ashmem";

NativeStatus CreateAshmemDevice(const std::string& name, uint64_t size, UniqueFd* out) {
  UniqueFd fd(::open(kAshmemDevice, O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return NativeStatus::FromErrno("open", "open /dev/ashmem");

  char name_buffer[DROIDWAY_ASHMEM_NAME_LEN] = {};
  std::memcpy(name_buffer, name.data(), name.size());  // name.size() <= kMaxNameBytes < 256
  if (::ioctl(fd.get(), DROIDWAY_ASHMEM_SET_NAME, name_buffer) < 0) {
    return NativeStatus::FromErrno("ioctl", "ASHMEM_SET_NAME");
  }
  if (::ioctl(fd.get(), DROIDWAY_ASHMEM_SET_SIZE, static_cast<size_t>(size)) < 0) {
    return NativeStatus::FromErrno("ioctl", "ASHMEM_SET_SIZE to " + std::to_string(size));
  }
  *out = std::move(fd);
  return {};
}

NativeStatus CreateMemfd(const std::string& name, uint64_t size, UniqueFd* out) {
  UniqueFd fd(::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid()) return NativeStatus::FromErrno("memfd_create", "memfd_create '" + name + "'");
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) < 0) {
    return NativeStatus::FromErrno("ftruncate", "size memfd to " + std::to_string(size));
  }
  // Android's regions have a fixed size; sealing it also lets a receiver map the whole region
  // without fearing SIGBUS from a later shrink.
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) < 0) {
    return NativeStatus::FromErrno("fcntl", "F_ADD_SEALS grow|shrink");
  }
  *out = std::move(fd);
  return {};
}

}  // namespace

bool Ashmem::DeviceAvailable() {
  UniqueFd fd(::open(kAshmemDevice, O_RDWR | O_CLOEXEC));
  return fd.valid();
}

NativeStatus Ashmem::Create(const std::string& name, uint64_t size, AshmemBackendChoice choice,
                            UniqueFd* out, AshmemBackend* backend) {
  if (name.empty() || name.size() > kMaxNameBytes || name.find('\0') != std::string::npos ||
      name.find('/') != std::string::npos) {
    return NativeStatus::Error(-EINVAL, "memfd_create", "invalid region name");
  }
  if (size == 0 || size > kMaxSize) {
    return NativeStatus::Error(-EINVAL, "ftruncate", "invalid region size");
  }

  if (choice == AshmemBackendChoice::kAshmem ||
      (choice == AshmemBackendChoice::kAuto && DeviceAvailable())) {
    NativeStatus status = CreateAshmemDevice(name, size, out);
    if (status.ok()) *backend = AshmemBackend::kAshmem;
    return status;
  }
  NativeStatus status = CreateMemfd(name, size, out);
  if (status.ok()) *backend = AshmemBackend::kMemfd;
  return status;
}

NativeStatus Ashmem::IsAshmemFd(int fd, bool* is_ashmem) {
  *is_ashmem = false;
  struct stat fd_stat;
  if (::fstat(fd, &fd_stat) < 0) return NativeStatus::FromErrno("fstat", "fstat fd");
  if (!S_ISCHR(fd_stat.st_mode)) return {};
  struct stat device_stat;
  if (::stat(kAshmemDevice, &device_stat) < 0) return {};
  *is_ashmem = S_ISCHR(device_stat.st_mode) && device_stat.st_rdev == fd_stat.st_rdev;
  return {};
}

NativeStatus Ashmem::AshmemDeviceSize(int fd, uint64_t* size) {
  const int result = ::ioctl(fd, DROIDWAY_ASHMEM_GET_SIZE, 0);
  if (result < 0) return NativeStatus::FromErrno("ioctl", "ASHMEM_GET_SIZE");
  *size = static_cast<uint64_t>(result);
  return {};
}

NativeStatus Ashmem::SetReadOnly(int fd) {
  bool is_ashmem = false;
  NativeStatus status = IsAshmemFd(fd, &is_ashmem);
  if (!status.ok()) return status;
  if (is_ashmem) {
    if (::ioctl(fd, DROIDWAY_ASHMEM_SET_PROT_MASK, static_cast<unsigned long>(PROT_READ)) < 0) {
      return NativeStatus::FromErrno("ioctl", "ASHMEM_SET_PROT_MASK(PROT_READ)");
    }
    return {};
  }
  if (::fcntl(fd, F_ADD_SEALS, DROIDWAY_F_SEAL_FUTURE_WRITE) < 0) {
    return NativeStatus::FromErrno("fcntl", "F_ADD_SEALS future-write");
  }
  return {};
}

NativeStatus Ashmem::GetSize(int fd, uint64_t* size) {
  bool is_ashmem = false;
  NativeStatus status = IsAshmemFd(fd, &is_ashmem);
  if (!status.ok()) return status;
  if (is_ashmem) return AshmemDeviceSize(fd, size);
  struct stat fd_stat;
  if (::fstat(fd, &fd_stat) < 0) return NativeStatus::FromErrno("fstat", "fstat region");
  if (!S_ISREG(fd_stat.st_mode)) {
    return NativeStatus::Error(-EINVAL, "fstat", "fd is neither /dev/ashmem nor a memfd");
  }
  *size = static_cast<uint64_t>(fd_stat.st_size);
  return {};
}

#ifndef DROIDWAY_NATIVE_NO_NAPI
namespace {

Napi::Value JsAshmemCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  JsArgs args(info);
  args.ExpectCount(3);
  const std::string name = args.String(0, "name");
  if (name.empty() || name.size() > Ashmem::kMaxNameBytes) {
    throw JsArgs::RangeError(
        env, "name must be 1.." + std::to_string(Ashmem::kMaxNameBytes) + " bytes of UTF-8");
  }
  if (name.find('\0') != std::string::npos || name.find('/') != std::string::npos) {
    throw JsArgs::RangeError(env, "name must not contain NUL or '/'");
  }
  const auto size =
      static_cast<uint64_t>(args.Integer(1, "size", 1, static_cast<int64_t>(Ashmem::kMaxSize)));
  const std::string backend_name = args.Choice(2, "backend", {"auto", "ashmem", "memfd"});
  const AshmemBackendChoice choice = backend_name == "ashmem"  ? AshmemBackendChoice::kAshmem
                                     : backend_name == "memfd" ? AshmemBackendChoice::kMemfd
                                                               : AshmemBackendChoice::kAuto;

  UniqueFd fd;
  AshmemBackend backend = AshmemBackend::kMemfd;
  Ashmem::Create(name, size, choice, &fd, &backend).ThrowIfError(env);

  Napi::Object result = Napi::Object::New(env);
  result.Set("backend", backend == AshmemBackend::kAshmem ? "ashmem" : "memfd");
  // Last step that can throw is above: from here the fd belongs to JS.
  result.Set("fd", Napi::Number::New(env, fd.get()));
  (void)fd.release();
  return result;
}

Napi::Value JsAshmemSetReadOnly(const Napi::CallbackInfo& info) {
  JsArgs args(info);
  args.ExpectCount(1);
  Ashmem::SetReadOnly(args.Fd(0, "fd")).ThrowIfError(info.Env());
  return info.Env().Undefined();
}

Napi::Value JsAshmemGetSize(const Napi::CallbackInfo& info) {
  JsArgs args(info);
  args.ExpectCount(1);
  uint64_t size = 0;
  Ashmem::GetSize(args.Fd(0, "fd"), &size).ThrowIfError(info.Env());
  return Napi::Number::New(info.Env(), static_cast<double>(size));
}

Napi::Value JsAshmemDeviceAvailable(const Napi::CallbackInfo& info) {
  JsArgs(info).ExpectCount(0);
  return Napi::Boolean::New(info.Env(), Ashmem::DeviceAvailable());
}

}  // namespace

void Ashmem::Register(Napi::Env env, Napi::Object exports) {
  exports.Set("ashmemCreate", Napi::Function::New(env, JsAshmemCreate, "ashmemCreate"));
  exports.Set("ashmemSetReadOnly",
              Napi::Function::New(env, JsAshmemSetReadOnly, "ashmemSetReadOnly"));
  exports.Set("ashmemGetSize", Napi::Function::New(env, JsAshmemGetSize, "ashmemGetSize"));
  exports.Set("ashmemDeviceAvailable",
              Napi::Function::New(env, JsAshmemDeviceAvailable, "ashmemDeviceAvailable"));
}

#endif  // DROIDWAY_NATIVE_NO_NAPI

}  // namespace droidway
