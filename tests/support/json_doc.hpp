// A parsed JSON text with dotted-path lookup ("requestContext.identity.sourceIp"), for assertions
// on the events handlers receive. Cheap to copy (the document is shared and never changed).
// Thread-safety: immutable after construction; safe to read from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

namespace apigw::test_support {

class json_doc {
 public:
  json_doc() = default;
  explicit json_doc(std::string text);

  bool ok() const { return doc_ != nullptr; }  // parsed without error
  const std::string& text() const { return text_; }

  // The value at PATH (members separated by '.'; "" is the root), or nullptr.
  const rapidjson::Value* at(std::string_view path) const;
  bool has(std::string_view path) const { return at(path) != nullptr; }

  // Typed lookups: nullopt when PATH is missing or holds another type.
  std::optional<std::string> str(std::string_view path) const;
  std::optional<std::int64_t> int64(std::string_view path) const;
  std::optional<bool> boolean(std::string_view path) const;
  // The member names of the object at PATH, in order (empty when it is not an object).
  std::vector<std::string> keys(std::string_view path) const;
  // The strings of the array at PATH (nullopt unless it is an array of strings).
  std::optional<std::vector<std::string>> strings(std::string_view path) const;

 private:
  std::string text_;
  std::shared_ptr<const rapidjson::Document> doc_;
};

// Compact JSON text of VALUE.
std::string to_json(const rapidjson::Value& value);

}  // namespace apigw::test_support
