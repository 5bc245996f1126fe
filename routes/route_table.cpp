#include "routes/route_table.hpp"

#include <cstdint>
#include <cstring>
#include <memory>

#include <rapidjson/document.h>

namespace apigw::routes {

namespace {

using body_document = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                                 rapidjson::MemoryPoolAllocator<>>;

// RapidJSON's recursive parser is the faster one, but it nests on the thread's stack once per
// level of the message: it reads messages up to this depth, and a deeper one is read again by the
// iterative parser, whose stack is on the heap.
constexpr int kMostNestedForRecursion = 64;

// A reader's events for DOCUMENT, refused (ending the parse) past kMostNestedForRecursion levels.
class depth_limited {
 public:
  explicit depth_limited(body_document& document) : d_(document) {}
  bool too_deep() const { return too_deep_; }

  bool Null() { return d_.Null(); }
  bool Bool(bool b) { return d_.Bool(b); }
  bool Int(int i) { return d_.Int(i); }
  bool Uint(unsigned i) { return d_.Uint(i); }
  bool Int64(std::int64_t i) { return d_.Int64(i); }
  bool Uint64(std::uint64_t i) { return d_.Uint64(i); }
  bool Double(double d) { return d_.Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) { return d_.RawNumber(s, n, copy); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return d_.String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return d_.Key(s, n, copy); }
  bool StartObject() { return enter() && d_.StartObject(); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return d_.EndObject(members);
  }
  bool StartArray() { return enter() && d_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return d_.EndArray(elements);
  }

 private:
  bool enter() {
    too_deep_ = ++depth_ > kMostNestedForRecursion;
    return !too_deep_;
  }

  body_document& d_;
  int depth_ = 0;
  bool too_deep_ = false;
};

}  // namespace

bool route_table::add(std::unique_ptr<route> r) {
  if (!by_key_.emplace(r->key, r.get()).second) return false;
  if (r->key == "$connect") connect_ = r.get();
  if (r->key == "$disconnect") disconnect_ = r.get();
  if (r->key == "$default") default_ = r.get();
  routes_.push_back(std::move(r));
  return true;
}

const route* route_table::find(std::string_view key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second;
}

selection route_table::resolve(std::string_view message) const {
  // Every message must be JSON to be routed: one that is empty or not JSON goes to $default,
  // whatever the expression (docs/route-selection.md). A NUL byte is never part of JSON text.
  selection out;
  out.chosen = default_;
  if (message.empty() || std::memchr(message.data(), '\0', message.size()) != nullptr) return out;
  // The message is parsed in place, in a copy: its strings are unescaped where they are instead
  // of being copied out one character at a time. Typical messages touch no heap: the copy and
  // RapidJSON's pools are in these stack buffers. RapidJSON's SSE2 paths read the copy in aligned
  // 16-byte blocks, up to 15 bytes past its end: the buffers end on such a block's end.
  alignas(16) char text_buffer[4096];
  std::unique_ptr<char[]> large_text;
  char* text = text_buffer;
  if (message.size() >= sizeof text_buffer) {
    large_text = std::make_unique_for_overwrite<char[]>((message.size() + 16) & ~std::size_t{15});
    text = large_text.get();
  }
  const auto copy_message = [&] {
    std::memcpy(text, message.data(), message.size());
    text[message.size()] = '\0';
  };
  copy_message();
  // The parse pool holds the document's stack (kParseStack bytes to start with), the reader's
  // (256 bytes for the iterative parser's states) and the pool's own header: sized for all three,
  // no push takes a 64 KiB chunk from the heap.
  constexpr std::size_t kParseStack = 1024;
  char value_buffer[4096];
  char parse_buffer[kParseStack + 512];
  rapidjson::MemoryPoolAllocator<> value_pool(value_buffer, sizeof value_buffer);
  rapidjson::MemoryPoolAllocator<> parse_pool(parse_buffer, sizeof parse_buffer);
  body_document body(&value_pool, kParseStack, &parse_pool);
  bool parsed = false, too_deep = false;
  const auto parse_recursively = [&](body_document& d) {
    depth_limited events(d);
    rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>> reader(&parse_pool);
    rapidjson::InsituStringStream stream(text);
    parsed = !reader.Parse<rapidjson::kParseInsituFlag>(stream, events).IsError();
    too_deep = events.too_deep();
    return parsed;
  };
  body.Populate(parse_recursively);
  if (!parsed) {
    if (!too_deep) return out;
    // Nested deeper than recursion may go: read again without it, from a fresh copy (the first
    // parse unescaped strings where they were).
    copy_message();
    body.ParseInsitu<rapidjson::kParseIterativeFlag>(text);
    if (body.HasParseError()) return out;
  }
  out.json = true;
  out.key = expression_.evaluate(&body);
  // "$connect" and "$disconnect" are lifecycle routes: a message never selects them.
  if (auto it = by_key_.find(out.key);
      it != by_key_.end() && it->second != connect_ && it->second != disconnect_) {
    out.chosen = it->second;
  }
  return out;
}

}  // namespace apigw::routes
