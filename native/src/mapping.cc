#include "mapping.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "addon_state.h"
#include "ashmem.h"
#include "js_args.h"
#include "native_error.h"

namespace droidway {

/** One mmap()ed range; munmaps once, on Unmap() or destruction. */
class MappedMemory {
 public:
  MappedMemory(void* address, size_t length) : address_(address), length_(length) {}
  ~MappedMemory() { Unmap(); }
  MappedMemory(const MappedMemory&) = delete;
  MappedMemory& operator=(const MappedMemory&) = delete;

  void* address() const { return address_; }
  size_t length() const { return length_; }
  bool mapped() const { return address_ != nullptr; }

  void Unmap() {
    if (address_ != nullptr) ::munmap(address_, length_);
    address_ = nullptr;
  }

 private:
  void* address_;
  size_t length_;
};

namespace {

// Tags the External that carries a fresh mapping into the constructor, so JS (which could reach
// the constructor through `mapping.constructor`) cannot construct a Mapping of its own.
constexpr napi_type_tag kPendingMappingTag = {0x6472'6f69'6477'6179ULL, 0x6d61'7070'696e'6701ULL};

struct PendingMapping {
  std::shared_ptr<MappedMemory> memory;
  bool writable;
};

// Refuses ranges past the end of a regular file or ashmem region: touching such pages raises
// SIGBUS, which would kill the whole process.
NativeStatus CheckRangeWithinFd(int fd, uint64_t end) {
  bool is_ashmem = false;
  NativeStatus status = Ashmem::IsAshmemFd(fd, &is_ashmem);
  if (!status.ok()) return status;
  uint64_t size = 0;
  if (is_ashmem) {
    status = Ashmem::AshmemDeviceSize(fd, &size);
    if (!status.ok()) return status;
  } else {
    struct stat fd_stat;
    if (::fstat(fd, &fd_stat) < 0) return NativeStatus::FromErrno("fstat", "fstat fd to map");
    if (!S_ISREG(fd_stat.st_mode)) return {};
    size = static_cast<uint64_t>(fd_stat.st_size);
  }
  if (end > size) {
    return NativeStatus::Error(-EINVAL, "mmap",
                               "mapping ends at " + std::to_string(end) + ", past the end of the " +
                                   std::to_string(size) + "-byte fd");
  }
  return {};
}

}  // namespace

Napi::Value Mapping::JsMapFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  JsArgs args(info);
  args.ExpectCount(2);
  const int fd = args.Fd(0, "fd");
  Napi::Object options = args.Object(1, "options");
  const bool writable = JsArgs::BooleanValue(env, options.Get("writable"), "options.writable");
  const auto offset = static_cast<uint64_t>(JsArgs::IntegerValue(
      env, options.Get("offset"), "options.offset", 0, JsArgs::kMaxSafeInteger));
  const auto length = static_cast<uint64_t>(JsArgs::IntegerValue(
      env, options.Get("length"), "options.length", 1, static_cast<int64_t>(kMaxLength)));
  const auto page_size = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  if (offset % page_size != 0) {
    throw JsArgs::RangeError(env, "options.offset must be a multiple of the page size (" +
                                      std::to_string(page_size) + ")");
  }
  uint64_t end = 0;
  if (__builtin_add_overflow(offset, length, &end) ||
      end > static_cast<uint64_t>(JsArgs::kMaxSafeInteger)) {
    throw JsArgs::RangeError(env, "options.offset + options.length is too large");
  }

  CheckRangeWithinFd(fd, end).ThrowIfError(env);

  const int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  void* address = ::mmap(nullptr, static_cast<size_t>(length), prot, MAP_SHARED, fd,
                         static_cast<off_t>(offset));
  if (address == MAP_FAILED) {
    NativeStatus::FromErrno("mmap", std::string("mmap ") + (writable ? "read-write" : "read-only") +
                                        " of fd " + std::to_string(fd))
        .ThrowIfError(env);
  }
  auto memory = std::make_shared<MappedMemory>(address, static_cast<size_t>(length));

  auto pending =
      Napi::External<PendingMapping>::New(env, new PendingMapping{memory, writable},
                                          [](Napi::Env, PendingMapping* data) { delete data; });
  pending.TypeTag(&kPendingMappingTag);
  return AddonState::Get(env)->mapping_constructor.New({pending});
}

Mapping::Mapping(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Mapping>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsExternal() ||
      !info[0].As<Napi::Object>().CheckTypeTag(&kPendingMappingTag)) {
    throw JsArgs::TypeError(env, "Mapping cannot be constructed directly; use mapFd()");
  }
  PendingMapping* pending = info[0].As<Napi::External<PendingMapping>>().Data();
  if (!pending->memory) {
    throw JsArgs::TypeError(env, "this mapping token was already used");
  }
  memory_ = std::move(pending->memory);
  writable_ = pending->writable;
  length_ = memory_->length();

  // The ArrayBuffer's finalizer owns one reference to the memory, the Mapping another.
  auto* buffer_owner = new std::shared_ptr<MappedMemory>(memory_);
  Napi::ArrayBuffer buffer;
  try {
    buffer = Napi::ArrayBuffer::New(
        env, memory_->address(), memory_->length(),
        [](Napi::Env, void*, std::shared_ptr<MappedMemory>* owner) { delete owner; }, buffer_owner);
  } catch (...) {
    // Whether Node ran the finalizer on this failure is not specified, so buffer_owner is not
    // touched; unmapping now guarantees the memory is released either way.
    memory_->Unmap();
    throw;
  }
  buffer_ = Napi::Persistent(buffer);
}

Mapping::~Mapping() = default;

Napi::Value Mapping::GetLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(length_));
}

Napi::Value Mapping::GetWritable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), writable_);
}

Napi::Value Mapping::GetMapped(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), memory_ && memory_->mapped());
}

Napi::Value Mapping::GetBuffer(const Napi::CallbackInfo& info) {
  if (!memory_ || !memory_->mapped() || buffer_.IsEmpty()) {
    Napi::Error error = Napi::Error::New(info.Env(), "the mapping was unmapped");
    error.Set("code", Napi::String::New(info.Env(), "ERR_UNMAPPED"));
    throw error;
  }
  return buffer_.Value();
}

Napi::Value Mapping::Unmap(const Napi::CallbackInfo& info) {
  if (memory_ && memory_->mapped()) {
    // Detach before munmap so no JS view can touch the range once it is gone.
    if (!buffer_.IsEmpty()) {
      Napi::ArrayBuffer buffer = buffer_.Value();
      if (!buffer.IsDetached()) buffer.Detach();
      buffer_.Reset();
    }
    memory_->Unmap();
  }
  return info.Env().Undefined();
}

void Mapping::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = DefineClass(env, "Mapping",
                                           {
                                               InstanceAccessor<&Mapping::GetLength>("length"),
                                               InstanceAccessor<&Mapping::GetWritable>("writable"),
                                               InstanceAccessor<&Mapping::GetBuffer>("buffer"),
                                               InstanceAccessor<&Mapping::GetMapped>("mapped"),
                                               InstanceMethod<&Mapping::Unmap>("unmap"),
                                           });
  AddonState::Get(env)->mapping_constructor = Napi::Persistent(constructor);
  exports.Set("mapFd", Napi::Function::New(env, JsMapFd, "mapFd"));
}

}  // namespace droidway
