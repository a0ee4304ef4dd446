#include "fd_inspect.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "ashmem.h"
#ifndef DROIDWAY_NATIVE_NO_NAPI
#include "js_args.h"
#endif
#include "seals.h"

namespace droidway {
namespace {

// From include/uapi/linux/magic.h. devtmpfs has no magic of its own: it is a tmpfs (or ramfs)
// instance, so /dev nodes report 'tmpfs'. ext2/3/4 share one magic, reported as 'ext4'.
struct FsMagicName {
  uint64_t magic;
  const char* name;
};
constexpr FsMagicName kFsMagicNames[] = {
    {0x01021994, "tmpfs"},     {0x958458f6, "hugetlbfs"}, {0xef53, "ext4"},
    {0x534f434b, "sockfs"},    {0x50495045, "pipefs"},    {0x858458f6, "ramfs"},
    {0x9fa0, "proc"},          {0x794c7630, "overlayfs"}, {0x9123683e, "btrfs"},
    {0x58465342, "xfs"},       {0x444d4142, "dmabuf"},    {0x09041934, "anon_inode"},
    {0x62656572, "sysfs"},     {0x1cd1, "devpts"},        {0x63677270, "cgroup2"},
    {0x27e0eb, "cgroup"},      {0x6969, "nfs"},           {0x65735546, "fuse"},
    {0x73717368, "squashfs"},  {0xf2f52010, "f2fs"},      {0x6c6f6f70, "binderfs"},
    {0x5345434d, "secretmem"}, {0xcafe4a11, "bpf"},       {0x4d44, "vfat"},
};

constexpr uint64_t kDmaBufMagic = 0x444d4142;
constexpr uint64_t kTmpfsMagic = 0x01021994;
constexpr uint64_t kHugetlbfsMagic = 0x958458f6;

struct SealName {
  int bit;
  const char* name;
};
constexpr SealName kSealNames[] = {
    {DROIDWAY_F_SEAL_SEAL, "seal"},
    {DROIDWAY_F_SEAL_SHRINK, "shrink"},
    {DROIDWAY_F_SEAL_GROW, "grow"},
    {DROIDWAY_F_SEAL_WRITE, "write"},
    {DROIDWAY_F_SEAL_FUTURE_WRITE, "future-write"},
    {DROIDWAY_F_SEAL_EXEC, "exec"},
};

bool StartsWith(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

}  // namespace

std::string FdInspect::FsTypeName(uint64_t magic) {
  for (const auto& entry : kFsMagicNames) {
    if (entry.magic == magic) return entry.name;
  }
  char hex[24];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(magic));
  return hex;
}

NativeStatus FdInspect::ReadFdLink(int fd, std::string* link) {
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  char target[4096];
  const ssize_t length = ::readlink(path.c_str(), target, sizeof target);
  if (length < 0) return NativeStatus::FromErrno("readlink", "readlink " + path);
  link->assign(target, static_cast<size_t>(length));
  return {};
}

NativeStatus FdInspect::Inspect(int fd, FdInfo* info) {
  struct stat fd_stat;
  if (::fstat(fd, &fd_stat) < 0) return NativeStatus::FromErrno("fstat", "fstat fd");
  struct statfs fs_stat;
  if (::fstatfs(fd, &fs_stat) < 0) return NativeStatus::FromErrno("fstatfs", "fstatfs fd");
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return NativeStatus::FromErrno("fcntl", "F_GETFL");
  NativeStatus status = ReadFdLink(fd, &info->link);
  if (!status.ok()) return status;

  info->mode = fd_stat.st_mode;
  // f_type is a signed word on some ABIs; the magic numbers are 32-bit patterns.
  info->fs_magic = static_cast<uint64_t>(static_cast<uint32_t>(fs_stat.f_type));
  info->fs_type = FsTypeName(info->fs_magic);
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      info->access = "r";
      break;
    case O_WRONLY:
      info->access = "w";
      break;
    default:
      info->access = "rw";
      break;
  }

  const int seals = ::fcntl(fd, F_GET_SEALS);
  info->has_seals = seals >= 0;
  info->seals.clear();
  if (seals >= 0) {
    for (const auto& seal : kSealNames) {
      if ((seals & seal.bit) != 0) info->seals.emplace_back(seal.name);
    }
  } else if (errno != EINVAL) {
    return NativeStatus::FromErrno("fcntl", "F_GET_SEALS");
  }

  bool is_ashmem = false;
  status = Ashmem::IsAshmemFd(fd, &is_ashmem);
  if (!status.ok()) return status;

  info->size = 0;
  if (is_ashmem) {
    info->kind = "ashmem";
    return Ashmem::AshmemDeviceSize(fd, &info->size);
  }
  if (info->fs_magic == kDmaBufMagic) {
    info->kind = "dmabuf";
    const off_t end = ::lseek(fd, 0, SEEK_END);
    if (end < 0) return NativeStatus::FromErrno("lseek", "lseek(SEEK_END) dmabuf");
    info->size = static_cast<uint64_t>(end);
    return {};
  }
  if (S_ISREG(fd_stat.st_mode)) {
    const bool shmem_fs = info->fs_magic == kTmpfsMagic || info->fs_magic == kHugetlbfsMagic;
    info->kind = shmem_fs && StartsWith(info->link, "/memfd:") ? "memfd" : "file";
    info->size = static_cast<uint64_t>(fd_stat.st_size);
    return {};
  }
  if (S_ISSOCK(fd_stat.st_mode)) {
    info->kind = "socket";
  } else if (S_ISFIFO(fd_stat.st_mode)) {
    info->kind = "pipe";
  } else {
    info->kind = "other";
  }
  return {};
}

#ifndef DROIDWAY_NATIVE_NO_NAPI
namespace {

Napi::Value JsInspectFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  JsArgs args(info);
  args.ExpectCount(1);
  FdInfo fd_info;
  FdInspect::Inspect(args.Fd(0, "fd"), &fd_info).ThrowIfError(env);

  Napi::Object result = Napi::Object::New(env);
  result.Set("kind", fd_info.kind);
  result.Set("size", Napi::Number::New(env, static_cast<double>(fd_info.size)));
  if (fd_info.has_seals) {
    Napi::Array seals = Napi::Array::New(env, fd_info.seals.size());
    for (size_t i = 0; i < fd_info.seals.size(); ++i) {
      seals.Set(static_cast<uint32_t>(i), fd_info.seals[i]);
    }
    result.Set("seals", seals);
  } else {
    result.Set("seals", env.Null());
  }
  result.Set("fsType", fd_info.fs_type);
  result.Set("fsMagic", Napi::Number::New(env, static_cast<double>(fd_info.fs_magic)));
  result.Set("link", fd_info.link);
  result.Set("mode", Napi::Number::New(env, fd_info.mode));
  result.Set("access", fd_info.access);
  return result;
}

}  // namespace

void FdInspect::Register(Napi::Env env, Napi::Object exports) {
  exports.Set("inspectFd", Napi::Function::New(env, JsInspectFd, "inspectFd"));
}

#endif  // DROIDWAY_NATIVE_NO_NAPI

}  // namespace droidway
