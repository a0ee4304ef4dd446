#include "bridge_js.h"

#include <cstdint>
#include <string>
#include <utility>

#include "../js_args.h"
#include "dmabuf_policy.h"

namespace droidway {
namespace bridge {
namespace {

std::string StringOption(Napi::Env env, Napi::Object options, const char* name) {
  Napi::Value value = options.Get(name);
  if (!value.IsString())
    throw JsArgs::TypeError(env, std::string("options.") + name + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

uint32_t IntegerOption(Napi::Env env, Napi::Object object, const char* prefix, const char* name,
                       int64_t min, int64_t max, uint32_t fallback) {
  Napi::Value value = object.Get(name);
  if (value.IsUndefined()) return fallback;
  return static_cast<uint32_t>(
      JsArgs::IntegerValue(env, value, std::string(prefix) + name, min, max));
}

BridgeConfig ReadConfig(Napi::Env env, Napi::Object options) {
  BridgeConfig config;
  config.socket_path = StringOption(env, options, "socketPath");
  config.host_socket_path = StringOption(env, options, "hostSocketPath");
  config.socket_mode = IntegerOption(env, options, "options.", "socketMode", 0, 0777, 0600);
  if (config.socket_mode != 0600 && config.socket_mode != 0660) {
    throw JsArgs::RangeError(env, "options.socketMode must be 0o600 or 0o660");
  }
  Napi::Value globals = options.Get("globals");
  if (!globals.IsArray()) throw JsArgs::TypeError(env, "options.globals must be an array");
  Napi::Array list = globals.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value name = list.Get(i);
    if (!name.IsString()) throw JsArgs::TypeError(env, "options.globals must hold strings");
    config.globals.push_back(name.As<Napi::String>().Utf8Value());
  }
  Napi::Value sealed = options.Get("requireSealed");
  if (!sealed.IsUndefined()) {
    config.require_sealed = JsArgs::BooleanValue(env, sealed, "options.requireSealed");
  }
  config.max_clients = IntegerOption(env, options, "options.", "maxClients", 1, 1024, 16);
  config.max_clients_per_uid =
      IntegerOption(env, options, "options.", "maxClientsPerUid", 0, 1024, 0);
  config.first_request_timeout_ms = static_cast<int>(
      IntegerOption(env, options, "options.", "firstRequestTimeoutMs", 1, 600000, 2000));
  config.host_timeout_ms =
      static_cast<int>(IntegerOption(env, options, "options.", "hostTimeoutMs", 1, 600000, 5000));
  config.poll_max_us = static_cast<uint32_t>(
      IntegerOption(env, options, "options.", "pollMaxUs", 0, 1000, config.poll_max_us));
  Napi::Value limits = options.Get("limits");
  if (!limits.IsUndefined()) {
    if (!limits.IsObject()) throw JsArgs::TypeError(env, "options.limits must be an object");
    Napi::Object object = limits.As<Napi::Object>();
    ClientLimits& out = config.limits;
    for (const ClientLimitField& field : kClientLimitFields) {
      out.*field.member = IntegerOption(env, object, "options.limits.", field.name, field.min,
                                        field.max, out.*field.member);
    }
  }
  Napi::Value clipboard = options.Get("clipboard");
  if (!clipboard.IsUndefined()) {
    if (!clipboard.IsObject()) throw JsArgs::TypeError(env, "options.clipboard must be an object");
    Napi::Object object = clipboard.As<Napi::Object>();
    ClipboardConfig& out = config.clipboard;
    const std::string mode = StringOption(env, object, "mode");
    if (!ParseClipboardMode(mode, &out.mode)) {
      throw JsArgs::RangeError(env, "options.clipboard.mode must be off, host-to-guest or both");
    }
    Napi::Value types = object.Get("mimeTypes");
    if (!types.IsArray())
      throw JsArgs::TypeError(env, "options.clipboard.mimeTypes must be an array");
    Napi::Array list = types.As<Napi::Array>();
    if (list.Length() > kClipboardMaxMimeTypes) {
      throw JsArgs::RangeError(env, "options.clipboard.mimeTypes holds at most " +
                                        std::to_string(kClipboardMaxMimeTypes));
    }
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Value item = list.Get(i);
      if (!item.IsString() || !ValidClipboardMime(item.As<Napi::String>().Utf8Value())) {
        throw JsArgs::RangeError(
            env, "options.clipboard.mimeTypes must hold printable ASCII strings of 1 to 255 bytes");
      }
      out.mime_types.push_back(item.As<Napi::String>().Utf8Value());
    }
    Napi::Value max_bytes = object.Get("maxBytes");
    if (!max_bytes.IsUndefined()) {
      out.max_bytes = static_cast<uint64_t>(JsArgs::IntegerValue(
          env, max_bytes, "options.clipboard.maxBytes", static_cast<int64_t>(kClipboardMinBytes),
          static_cast<int64_t>(kClipboardMaxBytes)));
    }
  }
  return config;
}

Napi::Object CountsObject(Napi::Env env, const std::map<std::string, uint64_t>& counts) {
  Napi::Object object = Napi::Object::New(env);
  for (const auto& entry : counts) {
    object.Set(entry.first, Napi::Number::New(env, static_cast<double>(entry.second)));
  }
  return object;
}

Napi::Number Count(Napi::Env env, uint64_t value) {
  return Napi::Number::New(env, static_cast<double>(value));
}

void DeliverEvent(Napi::Env env, Napi::Function callback, BridgeEvent* raw) {
  std::unique_ptr<BridgeEvent> event(raw);
  if (env == nullptr || callback.IsEmpty()) return;  // the environment is going away
  Napi::Object object = Napi::Object::New(env);
  object.Set("type", event->type);
  if (event->client_id != 0) object.Set("clientId", Count(env, event->client_id));
  if (event->type == "client-connected") {
    object.Set("pid", Napi::Number::New(env, event->pid));
    object.Set("uid", Napi::Number::New(env, event->uid));
  }
  if (event->type == "toplevel-mapped" || event->type == "toplevel-unmapped") {
    object.Set("appId", event->app_id);
    object.Set("title", event->title);
  }
  if (!event->reason.empty()) object.Set("reason", event->reason);
  if (!event->message.empty()) object.Set("message", event->message);
  if (event->type == "ready") {
    Napi::Array globals = Napi::Array::New(env, event->globals.size());
    for (size_t i = 0; i < event->globals.size(); ++i) {
      const std::string& entry = event->globals[i];
      const size_t colon = entry.rfind(':');
      Napi::Object global = Napi::Object::New(env);
      global.Set("interface", entry.substr(0, colon));
      global.Set("version", Napi::Number::New(env, std::stod(entry.substr(colon + 1))));
      globals.Set(static_cast<uint32_t>(i), global);
    }
    object.Set("globals", globals);
  }
  // An exception thrown by the listener propagates as an uncaught exception, as for any
  // event emitter.
  callback.Call({object});
}

uint64_t BigIntValue(Napi::Env env, Napi::Value value, const std::string& name) {
  if (!value.IsBigInt()) throw JsArgs::TypeError(env, name + " must be a bigint");
  bool lossless = false;
  const uint64_t out = value.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw JsArgs::RangeError(env, name + " must fit in 64 unsigned bits");
  return out;
}

uint32_t Uint32Value(Napi::Env env, Napi::Value value, const std::string& name) {
  return static_cast<uint32_t>(JsArgs::IntegerValue(env, value, name, 0, 0xffffffffLL));
}

// bridgeCheckDmabuf(planes, width, height, format, hostFormats): runs the bridge's linux-dmabuf
// checks (each add, then create) without a compositor, for the native tests.
Napi::Value CheckDmabuf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 5 || !info[0].IsArray() || !info[4].IsArray()) {
    throw JsArgs::TypeError(env, "bridgeCheckDmabuf(planes, width, height, format, hostFormats)");
  }
  std::vector<DmabufPlane> planes;
  Napi::Array list = info[0].As<Napi::Array>();
  if (list.Length() > 16) throw JsArgs::RangeError(env, "at most 16 planes");
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value item = list.Get(i);
    if (!item.IsObject()) throw JsArgs::TypeError(env, "planes must hold objects");
    Napi::Object object = item.As<Napi::Object>();
    DmabufPlane plane;
    plane.fd =
        static_cast<int>(JsArgs::IntegerValue(env, object.Get("fd"), "plane.fd", 0, 0x7fffffff));
    plane.index = Uint32Value(env, object.Get("index"), "plane.index");
    plane.offset = Uint32Value(env, object.Get("offset"), "plane.offset");
    plane.stride = Uint32Value(env, object.Get("stride"), "plane.stride");
    plane.modifier = BigIntValue(env, object.Get("modifier"), "plane.modifier");
    planes.push_back(plane);
  }
  const auto width =
      static_cast<int32_t>(JsArgs::IntegerValue(env, info[1], "width", -0x80000000LL, 0x7fffffff));
  const auto height =
      static_cast<int32_t>(JsArgs::IntegerValue(env, info[2], "height", -0x80000000LL, 0x7fffffff));
  const uint32_t format = Uint32Value(env, info[3], "format");
  DmabufFormatTable table;
  Napi::Array formats = info[4].As<Napi::Array>();
  for (uint32_t i = 0; i < formats.Length(); ++i) {
    Napi::Value pair = formats.Get(i);
    if (!pair.IsArray() || pair.As<Napi::Array>().Length() != 2) {
      throw JsArgs::TypeError(env, "hostFormats must hold [format, modifier] pairs");
    }
    table.emplace_back(Uint32Value(env, pair.As<Napi::Array>().Get(0u), "format"),
                       BigIntValue(env, pair.As<Napi::Array>().Get(1u), "modifier"));
  }
  Verdict verdict;
  std::string step = "add";
  std::vector<DmabufPlane> added;
  for (const DmabufPlane& plane : planes) {
    verdict = DmabufPolicy::CheckAdd(added, plane);
    if (!verdict.ok) break;
    added.push_back(plane);
  }
  if (verdict.ok) {
    step = "create";
    verdict = DmabufPolicy::CheckCreate(added, width, height, format, table);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", verdict.ok);
  if (!verdict.ok) {
    out.Set("step", step);
    out.Set("error", verdict.error);
    out.Set("reason", verdict.reason);
    out.Set("message", verdict.message);
  }
  return out;
}

}  // namespace

void BridgeJs::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = DefineClass(
      env, "DisplayBridge",
      {InstanceMethod<&BridgeJs::Stop>("stop"), InstanceMethod<&BridgeJs::Stats>("stats")});
  exports.Set("DisplayBridge", constructor);
  Napi::Array supported = Napi::Array::New(env);
  for (const std::string& name : Bridge::SupportedGlobals()) {
    supported.Set(supported.Length(), name);
  }
  exports.Set("bridgeSupportedGlobals", supported);
  exports.Set("bridgeCheckDmabuf", Napi::Function::New(env, CheckDmabuf, "bridgeCheckDmabuf"));
}

BridgeJs::BridgeJs(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BridgeJs>(info) {
  Napi::Env env = info.Env();
  JsArgs args(info);
  args.ExpectCount(2);
  BridgeConfig config = ReadConfig(env, args.Object(0, "options"));
  if (!info[1].IsFunction()) throw JsArgs::TypeError(env, "onEvent must be a function");

  events_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(),
                                          "droidway-bridge-events", 0, 1);
  events_live_ = true;
  Napi::ThreadSafeFunction events = events_;
  auto sink = [events](BridgeEvent&& event) mutable {
    auto* copy = new BridgeEvent(std::move(event));
    if (events.NonBlockingCall(copy, DeliverEvent) != napi_ok) delete copy;
  };
  const NativeStatus status = Bridge::Start(std::move(config), sink, &bridge_);
  if (!status.ok()) {
    events_.Release();
    events_live_ = false;
    status.ThrowIfError(env);
  }
  env_ = env;
  napi_add_env_cleanup_hook(env_, CleanupHook, this);
  cleanup_hook_ = true;
}

BridgeJs::~BridgeJs() {
  Shutdown();
}

void BridgeJs::Shutdown() {
  if (bridge_ != nullptr) {
    bridge_->Stop();  // joins the thread: no event is produced after this
  }
  if (events_live_) {
    events_.Release();
    events_live_ = false;
  }
  if (cleanup_hook_) {
    napi_remove_env_cleanup_hook(env_, CleanupHook, this);
    cleanup_hook_ = false;
  }
}

void BridgeJs::CleanupHook(void* data) {
  auto* self = static_cast<BridgeJs*>(data);
  self->cleanup_hook_ = false;  // hooks are removed by the environment as they run
  self->Shutdown();
}

Napi::Value BridgeJs::Stop(const Napi::CallbackInfo& info) {
  JsArgs(info).ExpectCount(0);
  Shutdown();
  return info.Env().Undefined();
}

Napi::Value BridgeJs::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  JsArgs(info).ExpectCount(0);
  const BridgeStats stats = bridge_->Stats();
  Napi::Object result = Napi::Object::New(env);
  result.Set("running", Napi::Boolean::New(env, stats.running));
  result.Set("clientsTotal", Count(env, stats.clients_total));
  Napi::Object poll = Napi::Object::New(env);
  poll.Set("ns", Napi::Number::New(env, static_cast<double>(stats.polled_ns)));
  poll.Set("workNs", Napi::Number::New(env, static_cast<double>(stats.poll_work_ns)));
  poll.Set("hits", Count(env, stats.poll_hits));
  poll.Set("misses", Count(env, stats.poll_misses));
  result.Set("poll", poll);
  Napi::Array clients = Napi::Array::New(env, stats.clients.size());
  for (size_t i = 0; i < stats.clients.size(); ++i) {
    const ClientStats& client = stats.clients[i];
    Napi::Object object = Napi::Object::New(env);
    object.Set("clientId", Count(env, client.id));
    object.Set("pid", Napi::Number::New(env, client.pid));
    object.Set("uid", Napi::Number::New(env, client.uid));
    object.Set("connected", Napi::Boolean::New(env, client.connected));
    object.Set("disconnectReason",
               client.connected ? env.Null() : Napi::String::New(env, client.disconnect_reason));
    object.Set("commits", Count(env, client.commits));
    Napi::Object forwarded = Napi::Object::New(env);
    forwarded.Set("shm", Count(env, client.shm_buffers_forwarded));
    forwarded.Set("dmabuf", Count(env, client.dmabuf_buffers_forwarded));
    object.Set("buffersForwarded", forwarded);
    object.Set("bytesCopied", Count(env, client.bytes_copied));
    object.Set("damageRectsDropped", Count(env, client.damage_rects_dropped));
    object.Set("fastRequests", Count(env, client.fast_requests));
    object.Set("fastEvents", Count(env, client.fast_events));
    object.Set("objects", Count(env, client.objects));
    object.Set("pools", Count(env, client.pools));
    object.Set("buffers", Count(env, client.buffers));
    object.Set("surfaces", Count(env, client.surfaces));
    object.Set("fdsRejected", CountsObject(env, client.fds_rejected));
    object.Set("violations", CountsObject(env, client.violations));
    clients.Set(static_cast<uint32_t>(i), object);
  }
  result.Set("clients", clients);
  return result;
}

}  // namespace bridge
}  // namespace droidway
