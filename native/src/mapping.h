// A shared mapping (mmap MAP_SHARED) of an fd, exposed to JS as an external ArrayBuffer.
//
// Lifetime: the mapped memory is held by a reference-counted block shared by the Mapping object
// and by the ArrayBuffer's finalizer, so neither can outlive the memory it points at. unmap()
// detaches the ArrayBuffer first (JS can no longer reach the bytes) and then munmaps at once;
// without unmap(), the memory goes when both the Mapping and its ArrayBuffer are collected.
//
// Electron builds V8 with the memory sandbox, which refuses external ArrayBuffers: there, mapFd
// throws (napi_no_external_buffers_allowed). Node (CLI, tests, session host) supports it.
#ifndef DROIDWAY_NATIVE_MAPPING_H_
#define DROIDWAY_NATIVE_MAPPING_H_

#include <napi.h>

#include <cstdint>
#include <memory>

namespace droidway {

class MappedMemory;

/** JS class `Mapping`: length, writable, buffer, mapped, unmap(). Created only by mapFd. */
class Mapping : public Napi::ObjectWrap<Mapping> {
 public:
  /** Largest mapping exposed as one ArrayBuffer (Node's Buffer limit, 4 GiB). */
  static constexpr uint64_t kMaxLength = uint64_t{1} << 32;

  /** Defines the class, stores its constructor in AddonState and adds mapFd to `exports`. */
  static void Register(Napi::Env env, Napi::Object exports);

  /** Called by Node-API only, with the private token mapFd passes; throws for any other caller. */
  explicit Mapping(const Napi::CallbackInfo& info);
  ~Mapping() override;

 private:
  static Napi::Value JsMapFd(const Napi::CallbackInfo& info);

  Napi::Value GetLength(const Napi::CallbackInfo& info);
  Napi::Value GetWritable(const Napi::CallbackInfo& info);
  Napi::Value GetBuffer(const Napi::CallbackInfo& info);
  Napi::Value GetMapped(const Napi::CallbackInfo& info);
  Napi::Value Unmap(const Napi::CallbackInfo& info);

  std::shared_ptr<MappedMemory> memory_;
  Napi::Reference<Napi::ArrayBuffer> buffer_;
  uint64_t length_ = 0;
  bool writable_ = false;
};

}  // namespace droidway

#endif  // DROIDWAY_NATIVE_MAPPING_H_
