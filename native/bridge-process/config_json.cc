#include "config_json.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

namespace droidway {
namespace bridge_process {
namespace {

constexpr size_t kMaxDepth = 4;
constexpr size_t kMaxItems = 64;

/** The subset of JSON the configuration uses: objects, arrays, strings, integers, booleans. */
struct Value {
  enum class Kind { kObject, kArray, kString, kInteger, kBoolean } kind = Kind::kObject;
  int64_t integer = 0;
  bool boolean = false;
  std::string string;
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> members;
};

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  bool ParseDocument(Value* out, std::string* error) {
    if (!ParseValue(out, 0)) {
      *error = error_ + " at byte " + std::to_string(pos_);
      return false;
    }
    SkipSpace();
    if (pos_ != text_.size()) {
      *error = "trailing bytes at byte " + std::to_string(pos_);
      return false;
    }
    return true;
  }

 private:
  bool Fail(const std::string& why) {
    if (error_.empty()) error_ = why;
    return false;
  }

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Literal(const char* word) {
    const std::string w(word);
    if (text_.compare(pos_, w.size(), w) != 0) return Fail("unexpected token");
    pos_ += w.size();
    return true;
  }

  bool ParseValue(Value* out, size_t depth) {
    if (depth > kMaxDepth) return Fail("nested too deeply");
    SkipSpace();
    if (pos_ >= text_.size()) return Fail("unexpected end");
    const char c = text_[pos_];
    if (c == '{') return ParseObject(out, depth);
    if (c == '[') return ParseArray(out, depth);
    if (c == '"') {
      out->kind = Value::Kind::kString;
      return ParseString(&out->string);
    }
    if (c == 't' || c == 'f') {
      out->kind = Value::Kind::kBoolean;
      out->boolean = c == 't';
      return Literal(c == 't' ? "true" : "false");
    }
    if (c == '-' || (c >= '0' && c <= '9')) return ParseInteger(out);
    return Fail("unexpected token");
  }

  bool ParseInteger(Value* out) {
    out->kind = Value::Kind::kInteger;
    bool negative = false;
    if (text_[pos_] == '-') {
      negative = true;
      ++pos_;
    }
    const size_t start = pos_;
    int64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (value > (int64_t{1} << 40)) return Fail("number too large");
      value = value * 10 + (text_[pos_] - '0');
      ++pos_;
    }
    if (pos_ == start) return Fail("bad number");
    if (pos_ - start > 1 && text_[start] == '0') return Fail("leading zero");
    if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
      return Fail("numbers must be integers");
    }
    out->integer = negative ? -value : value;
    return true;
  }

  bool ParseString(std::string* out) {
    ++pos_;  // the opening quote
    while (pos_ < text_.size()) {
      const unsigned char c = static_cast<unsigned char>(text_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return Fail("control character in string");
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        continue;
      }
      if (pos_ >= text_.size()) break;
      const char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          if (pos_ + 4 > text_.size()) return Fail("bad \\u escape");
          unsigned code = 0;
          for (int i = 0; i < 4; ++i) {
            const char h = text_[pos_++];
            code <<= 4;
            if (h >= '0' && h <= '9') {
              code |= static_cast<unsigned>(h - '0');
            } else if (h >= 'a' && h <= 'f') {
              code |= static_cast<unsigned>(h - 'a' + 10);
            } else if (h >= 'A' && h <= 'F') {
              code |= static_cast<unsigned>(h - 'A' + 10);
            } else {
              return Fail("bad \\u escape");
            }
          }
          // Paths and names of the configuration never need more than the BMP; a surrogate
          // (half a pair) is refused rather than decoded.
          if (code == 0 || (code >= 0xd800 && code <= 0xdfff)) return Fail("bad \\u escape");
          if (code < 0x80) {
            out->push_back(static_cast<char>(code));
          } else if (code < 0x800) {
            out->push_back(static_cast<char>(0xc0 | (code >> 6)));
            out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
          } else {
            out->push_back(static_cast<char>(0xe0 | (code >> 12)));
            out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
            out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
          }
          break;
        }
        default:
          return Fail("bad escape");
      }
    }
    return Fail("unterminated string");
  }

  bool ParseArray(Value* out, size_t depth) {
    out->kind = Value::Kind::kArray;
    ++pos_;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      if (out->items.size() >= kMaxItems) return Fail("too many items");
      out->items.emplace_back();
      if (!ParseValue(&out->items.back(), depth + 1)) return false;
      SkipSpace();
      if (pos_ >= text_.size()) return Fail("unexpected end");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return Fail("expected , or ]");
    }
  }

  bool ParseObject(Value* out, size_t depth) {
    out->kind = Value::Kind::kObject;
    ++pos_;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      if (out->members.size() >= kMaxItems) return Fail("too many members");
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Fail("expected a key");
      std::string key;
      if (!ParseString(&key)) return false;
      for (const auto& member : out->members) {
        if (member.first == key) return Fail("duplicate key " + key);
      }
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') return Fail("expected :");
      ++pos_;
      out->members.emplace_back(std::move(key), Value());
      if (!ParseValue(&out->members.back().second, depth + 1)) return false;
      SkipSpace();
      if (pos_ >= text_.size()) return Fail("unexpected end");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return Fail("expected , or }");
    }
  }

  const std::string& text_;
  size_t pos_ = 0;
  std::string error_;
};

/** Reads the members of one object, refusing keys nobody asked for. */
class Fields {
 public:
  Fields(const Value& object, std::string prefix, std::string* error)
      : object_(object), prefix_(std::move(prefix)), error_(error) {}

  const Value* Find(const char* key, Value::Kind kind, bool required) {
    seen_.emplace_back(key);
    for (const auto& member : object_.members) {
      if (member.first != key) continue;
      if (member.second.kind != kind) {
        Fail(std::string(key) + " has the wrong type");
        return nullptr;
      }
      return &member.second;
    }
    if (required) Fail(std::string(key) + " is required");
    return nullptr;
  }

  bool Integer(const char* key, int64_t min, int64_t max, bool required, int64_t* out) {
    const Value* value = Find(key, Value::Kind::kInteger, required);
    if (value == nullptr) return ok_;
    if (value->integer < min || value->integer > max) {
      return Fail(std::string(key) + " must be from " + std::to_string(min) + " to " +
                  std::to_string(max));
    }
    *out = value->integer;
    return true;
  }

  template <typename T>
  bool Integer(const char* key, int64_t min, int64_t max, T* out) {
    int64_t value = static_cast<int64_t>(*out);
    if (!Integer(key, min, max, false, &value)) return false;
    *out = static_cast<T>(value);
    return true;
  }

  bool String(const char* key, std::string* out) {
    const Value* value = Find(key, Value::Kind::kString, true);
    if (value != nullptr) *out = value->string;
    return ok_;
  }

  /** Refuses members that no Find asked for. */
  bool NoOthers() {
    for (const auto& member : object_.members) {
      if (std::find(seen_.begin(), seen_.end(), member.first) == seen_.end()) {
        return Fail("unknown key " + member.first.substr(0, 40));
      }
    }
    return ok_;
  }

  bool ok() const { return ok_; }

  bool Fail(const std::string& why) {
    if (ok_) *error_ = prefix_ + why;
    ok_ = false;
    return false;
  }

 private:
  const Value& object_;
  const std::string prefix_;
  std::string* error_;
  std::vector<std::string> seen_;
  bool ok_ = true;
};

}  // namespace

bool ParseConfig(const std::string& text, bridge::BridgeConfig* bridge, ProcessConfig* process,
                 std::string* error) {
  if (text.size() > 64 * 1024) {
    *error = "configuration longer than 64 KiB";
    return false;
  }
  Value root;
  if (!Parser(text).ParseDocument(&root, error)) return false;
  if (root.kind != Value::Kind::kObject) {
    *error = "configuration must be an object";
    return false;
  }
  Fields fields(root, "", error);
  fields.String("socketPath", &bridge->socket_path);
  fields.String("hostSocketPath", &bridge->host_socket_path);
  fields.Integer("socketMode", 0, 0777, &bridge->socket_mode);
  if (fields.ok() && bridge->socket_mode != 0600 && bridge->socket_mode != 0660) {
    fields.Fail("socketMode must be 0o600 or 0o660");
  }
  fields.Integer("socketUid", 0, 0xfffffffe, &bridge->socket_uid);
  fields.Integer("socketGid", 0, 0xfffffffe, &bridge->socket_gid);
  if (const Value* globals = fields.Find("globals", Value::Kind::kArray, true)) {
    for (const Value& item : globals->items) {
      if (item.kind != Value::Kind::kString) {
        fields.Fail("globals must hold strings");
        break;
      }
      const auto& supported = bridge::Bridge::SupportedGlobals();
      if (std::find(supported.begin(), supported.end(), item.string) == supported.end()) {
        fields.Fail("global " + item.string.substr(0, 40) + " cannot be relayed");
        break;
      }
      if (std::find(bridge->globals.begin(), bridge->globals.end(), item.string) ==
          bridge->globals.end()) {
        bridge->globals.push_back(item.string);
      }
    }
  }
  if (const Value* sealed = fields.Find("requireSealed", Value::Kind::kBoolean, false)) {
    bridge->require_sealed = sealed->boolean;
  }
  fields.Integer("maxClients", 1, 1024, &bridge->max_clients);
  fields.Integer("maxClientsPerUid", 0, 1024, &bridge->max_clients_per_uid);
  fields.Integer("firstRequestTimeoutMs", 1, 600000, &bridge->first_request_timeout_ms);
  fields.Integer("hostTimeoutMs", 1, 600000, &bridge->host_timeout_ms);
  fields.Integer("pollMaxUs", 0, 1000, &bridge->poll_max_us);
  if (const Value* limits = fields.Find("limits", Value::Kind::kObject, false)) {
    Fields inner(*limits, "limits.", error);
    bridge::ClientLimits& out = bridge->limits;
    for (const bridge::ClientLimitField& field : bridge::kClientLimitFields)
      inner.Integer(field.name, field.min, field.max, &(out.*field.member));
    if (!inner.NoOthers()) return false;
  }
  if (const Value* clipboard = fields.Find("clipboard", Value::Kind::kObject, false)) {
    Fields inner(*clipboard, "clipboard.", error);
    std::string mode;
    if (inner.String("mode", &mode) && !bridge::ParseClipboardMode(mode, &bridge->clipboard.mode))
      inner.Fail("mode must be off, host-to-guest or both");
    if (const Value* types = inner.Find("mimeTypes", Value::Kind::kArray, true)) {
      if (types->items.size() > bridge::kClipboardMaxMimeTypes)
        inner.Fail("mimeTypes holds at most " + std::to_string(bridge::kClipboardMaxMimeTypes));
      for (const Value& item : types->items) {
        if (!inner.ok()) break;
        if (item.kind != Value::Kind::kString || !bridge::ValidClipboardMime(item.string)) {
          inner.Fail("mimeTypes must hold printable ASCII strings of 1 to 255 bytes");
        } else {
          bridge->clipboard.mime_types.push_back(item.string);
        }
      }
    }
    int64_t max_bytes = static_cast<int64_t>(bridge->clipboard.max_bytes);
    inner.Integer("maxBytes", static_cast<int64_t>(bridge::kClipboardMinBytes),
                  static_cast<int64_t>(bridge::kClipboardMaxBytes), true, &max_bytes);
    bridge->clipboard.max_bytes = static_cast<uint64_t>(max_bytes);
    if (!inner.NoOthers()) return false;
  }
  fields.Integer("runAsUid", 1, 0xfffffffe, &process->run_as_uid);
  fields.Integer("runAsGid", 1, 0xfffffffe, &process->run_as_gid);
  fields.Integer("memoryLimitMiB", 32, 1 << 16, &process->memory_limit_mib);
  if (!fields.NoOthers()) return false;
  if ((process->run_as_uid < 0) != (process->run_as_gid < 0)) {
    *error = "runAsUid and runAsGid go together";
    return false;
  }
  return true;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c == 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", c);
      out += escape;
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return out;
}

std::string ConfigJson(const bridge::BridgeConfig& bridge, const ProcessConfig& process) {
  std::string out = "{\"socketPath\":" + JsonString(bridge.socket_path);
  out += ",\"hostSocketPath\":" + JsonString(bridge.host_socket_path);
  out += ",\"socketMode\":" + std::to_string(bridge.socket_mode);
  if (bridge.socket_uid >= 0) out += ",\"socketUid\":" + std::to_string(bridge.socket_uid);
  if (bridge.socket_gid >= 0) out += ",\"socketGid\":" + std::to_string(bridge.socket_gid);
  out += ",\"globals\":[";
  for (size_t i = 0; i < bridge.globals.size(); ++i) {
    if (i != 0) out += ",";
    out += JsonString(bridge.globals[i]);
  }
  out += "],\"requireSealed\":";
  out += bridge.require_sealed ? "true" : "false";
  out += ",\"maxClients\":" + std::to_string(bridge.max_clients);
  out += ",\"maxClientsPerUid\":" + std::to_string(bridge.max_clients_per_uid);
  out += ",\"firstRequestTimeoutMs\":" + std::to_string(bridge.first_request_timeout_ms);
  out += ",\"hostTimeoutMs\":" + std::to_string(bridge.host_timeout_ms);
  out += ",\"pollMaxUs\":" + std::to_string(bridge.poll_max_us);
  const bridge::ClientLimits& limits = bridge.limits;
  out += ",\"limits\":{";
  for (const bridge::ClientLimitField& field : bridge::kClientLimitFields) {
    if (&field != bridge::kClientLimitFields) out += ",";
    out += JsonString(field.name) + ":" + std::to_string(limits.*field.member);
  }
  out += "}";
  const bridge::ClipboardConfig& clipboard = bridge.clipboard;
  out += ",\"clipboard\":{\"mode\":" + JsonString(bridge::ClipboardModeName(clipboard.mode));
  out += ",\"mimeTypes\":[";
  for (size_t i = 0; i < clipboard.mime_types.size(); ++i) {
    if (i != 0) out += ",";
    out += JsonString(clipboard.mime_types[i]);
  }
  out += "],\"maxBytes\":" + std::to_string(clipboard.max_bytes) + "}";
  if (process.run_as_uid >= 0) {
    out += ",\"runAsUid\":" + std::to_string(process.run_as_uid);
    out += ",\"runAsGid\":" + std::to_string(process.run_as_gid);
  }
  out += ",\"memoryLimitMiB\":" + std::to_string(process.memory_limit_mib) + "}";
  return out;
}

}  // namespace bridge_process
}  // namespace droidway
