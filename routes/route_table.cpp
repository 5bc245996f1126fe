#include "routes/route_table.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

namespace apigw::routes {

namespace {

using body_document = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                                 rapidjson::MemoryPoolAllocator<>>;

// RapidJSON's recursive parser is the faster one, but it nests on the thread's stack once per
// level of the message: it reads messages up to this depth, and a deeper one is read again by the
// iterative parser, whose stack is on the heap.
constexpr std::size_t kMostNestedForRecursion = 64;

// The containers open where a reader is, refused (ending the parse) past kMostNestedForRecursion.
class nesting {
 public:
  // A container opens: false when it is one too many.
  bool enter() {
    too_deep_ = ++depth_ > kMostNestedForRecursion;
    return !too_deep_;
  }
  void leave() { --depth_; }
  std::size_t depth() const { return depth_; }
  bool too_deep() const { return too_deep_; }

 private:
  std::size_t depth_ = 0;
  bool too_deep_ = false;
};

// A reader's events for DOCUMENT, refused (ending the parse) past kMostNestedForRecursion levels.
class depth_limited {
 public:
  explicit depth_limited(body_document& document) : d_(document) {}
  bool too_deep() const { return nesting_.too_deep(); }

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
  bool StartObject() { return nesting_.enter() && d_.StartObject(); }
  bool EndObject(rapidjson::SizeType members) {
    nesting_.leave();
    return d_.EndObject(members);
  }
  bool StartArray() { return nesting_.enter() && d_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    nesting_.leave();
    return d_.EndArray(elements);
  }

 private:
  body_document& d_;
  nesting nesting_;
};

// A reader's events for an expression that is one path of member names: they follow the path
// as the parser reads, so that no document is built. The path's value is the first member of each
// name, as a document's FindMember() gives it; once it is found or ruled out, the events only
// count the depth, and the parser goes on to validate the rest of the message.
class member_path_reader {
 public:
  enum class found {
    nothing,  // not in the message, or the message is not an object: the path gives ""
    text,     // a string, a boolean or null: text() is what the path gives
    other,    // a number, an object or an array, whose text is the document's to write
  };

  explicit member_path_reader(const std::vector<selection_expression::step>& path) : path_(path) {}
  bool too_deep() const { return nesting_.too_deep(); }
  found result() const { return found_; }
  std::string_view text() const { return text_; }

  bool Null() { return scalar(found::text, {}); }
  bool Bool(bool b) { return scalar(found::text, b ? std::string_view("true") : std::string_view("false")); }
  bool Int(int) { return scalar(found::other, {}); }
  bool Uint(unsigned) { return scalar(found::other, {}); }
  bool Int64(std::int64_t) { return scalar(found::other, {}); }
  bool Uint64(std::uint64_t) { return scalar(found::other, {}); }
  bool Double(double) { return scalar(found::other, {}); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return scalar(found::other, {}); }
  bool String(const char* s, rapidjson::SizeType n, bool) { return scalar(found::text, std::string_view(s, n)); }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    // A member of the object on the path, at the level where the next name is looked for.
    if (searching_ && nesting_.depth() == matched_ + 1 && path_[matched_].name == std::string_view(s, n)) next_is_step_ = true;
    return true;
  }
  bool StartObject() {
    if (searching_) {
      if (nesting_.depth() == 0) {
        // The message itself: an object, in which the path starts.
      } else if (next_is_step_) {
        next_is_step_ = false;
        if (++matched_ == path_.size()) conclude(found::other);
      }
    }
    return nesting_.enter();
  }
  bool EndObject(rapidjson::SizeType) {
    // The object on the path ends without the member it was searched for.
    if (searching_ && nesting_.depth() == matched_ + 1) conclude(found::nothing);
    nesting_.leave();
    return true;
  }
  bool StartArray() {
    array_arrives();
    return nesting_.enter();
  }
  bool EndArray(rapidjson::SizeType) {
    nesting_.leave();
    return true;
  }

 private:
  // An array arrives: a path of member names does not go on through it.
  void array_arrives() {
    if (!searching_) return;
    if (nesting_.depth() == 0) return conclude(found::nothing);  // the message is not an object
    if (!next_is_step_) return;
    next_is_step_ = false;
    conclude(matched_ + 1 == path_.size() ? found::other : found::nothing);
  }
  bool scalar(found kind, std::string_view text) {
    if (!searching_) return true;
    if (nesting_.depth() == 0) {
      conclude(found::nothing);
    } else if (next_is_step_) {
      next_is_step_ = false;
      if (matched_ + 1 == path_.size()) {
        conclude(kind);
        text_ = text;
      } else {
        conclude(found::nothing);  // the path goes on through a value that has no members
      }
    }
    return true;
  }
  void conclude(found f) {
    searching_ = false;
    found_ = f;
  }

  const std::vector<selection_expression::step>& path_;
  nesting nesting_;
  std::size_t matched_ = 0;  // the path's names matched by the objects open: the next is path_[matched_]
  bool next_is_step_ = false;  // the key just read is that name: its value is the next step
  bool searching_ = true;
  found found_ = found::nothing;
  std::string_view text_;
};

}  // namespace

route_table::route_table(selection_expression expression) : expression_(std::move(expression)) {
  const auto& parts = expression_.parts();
  member_path_only_ = parts.size() == 1 && parts.front().is_path && !parts.front().path.empty();
  if (member_path_only_) {
    for (const auto& step : parts.front().path) member_path_only_ = member_path_only_ && !step.is_index;
  }
}

bool route_table::add(std::unique_ptr<route> r) {
  if (!by_key_.emplace(r->key, r.get()).second) return false;
  if (r->key == "$connect") connect_ = r.get();
  if (r->key == "$disconnect") disconnect_ = r.get();
  if (r->key == "$default") default_ = r.get();
  routes_.push_back(std::move(r));
  return true;
}

const route* route_table::find(std::string_view key) const {
  // Every message looks its key up: in an API of a few routes, comparing the keys (most differ
  // in length) costs less than hashing the key.
  if (routes_.size() <= kComparedRoutes) {
    for (const auto& r : routes_) {
      if (r->key == key) return r.get();
    }
    return nullptr;
  }
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
  using reader_type = rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>>;
  bool too_deep = false;
  if (member_path_only_) {
    member_path_reader events(expression_.parts().front().path);
    // Parsing in place, with neither numbers as strings nor the iterative parser, the reader never
    // pushes to its stack, so it has no pool.
    reader_type reader;
    rapidjson::InsituStringStream stream(text);
    if (!reader.Parse<rapidjson::kParseInsituFlag>(stream, events).IsError()) {
      if (events.result() != member_path_reader::found::other) {
        out.json = true;
        out.key = events.text();
        choose(out);
        return out;
      }
      // A number, an object or an array: its text is the document's, below.
    } else if (!events.too_deep()) {
      return out;
    }
    too_deep = events.too_deep();
    copy_message();  // the parse unescaped strings where they were
  }
  // The parse pool holds the document's stack (kParseStack bytes to start with), the reader's
  // (256 bytes for the iterative parser's states) and the pool's own header: sized for all three,
  // no push takes a 64 KiB chunk from the heap.
  constexpr std::size_t kParseStack = 1024;
  char value_buffer[4096];
  char parse_buffer[kParseStack + 512];
  rapidjson::MemoryPoolAllocator<> value_pool(value_buffer, sizeof value_buffer);
  rapidjson::MemoryPoolAllocator<> parse_pool(parse_buffer, sizeof parse_buffer);
  body_document body(&value_pool, kParseStack, &parse_pool);
  bool parsed = false;
  if (!too_deep) {
    const auto parse_recursively = [&](body_document& d) {
      depth_limited events(d);
      reader_type reader(&parse_pool);
      rapidjson::InsituStringStream stream(text);
      parsed = !reader.Parse<rapidjson::kParseInsituFlag>(stream, events).IsError();
      too_deep = events.too_deep();
      return parsed;
    };
    body.Populate(parse_recursively);
    if (!parsed && !too_deep) return out;
    if (!parsed) copy_message();
  }
  if (!parsed) {
    // Nested deeper than recursion may go: read without it (from a fresh copy).
    body.ParseInsitu<rapidjson::kParseIterativeFlag>(text);
    if (body.HasParseError()) return out;
  }
  out.json = true;
  out.key = expression_.evaluate(&body);
  choose(out);
  return out;
}

void route_table::choose(selection& s) const {
  // "$connect" and "$disconnect" are lifecycle routes: a message never selects them.
  if (const route* r = find(s.key); r != nullptr && r != connect_ && r != disconnect_) s.chosen = r;
}

}  // namespace apigw::routes
