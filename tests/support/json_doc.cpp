#include "tests/support/json_doc.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace apigw::test_support {

json_doc::json_doc(std::string text) : text_(std::move(text)) {
  auto doc = std::make_shared<rapidjson::Document>();
  doc->Parse(text_.data(), text_.size());
  if (!doc->HasParseError()) doc_ = std::move(doc);
}

const rapidjson::Value* json_doc::at(std::string_view path) const {
  if (!doc_) return nullptr;
  const rapidjson::Value* v = doc_.get();
  while (!path.empty()) {
    const auto dot = path.find('.');
    const std::string_view name = path.substr(0, dot);
    if (!v->IsObject()) return nullptr;
    const auto it = v->FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
    if (it == v->MemberEnd()) return nullptr;
    v = &it->value;
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return v;
}

std::optional<std::string> json_doc::str(std::string_view path) const {
  const auto* v = at(path);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

std::optional<std::int64_t> json_doc::int64(std::string_view path) const {
  const auto* v = at(path);
  if (v == nullptr || !v->IsInt64()) return std::nullopt;
  return v->GetInt64();
}

std::optional<bool> json_doc::boolean(std::string_view path) const {
  const auto* v = at(path);
  if (v == nullptr || !v->IsBool()) return std::nullopt;
  return v->GetBool();
}

std::vector<std::string> json_doc::keys(std::string_view path) const {
  std::vector<std::string> out;
  const auto* v = at(path);
  if (v == nullptr || !v->IsObject()) return out;
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    out.emplace_back(it->name.GetString(), it->name.GetStringLength());
  }
  return out;
}

std::optional<std::vector<std::string>> json_doc::strings(std::string_view path) const {
  const auto* v = at(path);
  if (v == nullptr || !v->IsArray()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& item : v->GetArray()) {
    if (!item.IsString()) return std::nullopt;
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

std::string to_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace apigw::test_support
