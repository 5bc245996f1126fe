#include "store/table_schema.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace apigw::store {
namespace {

namespace rj = rapidjson;

std::string_view view(const rj::Value& v) { return {v.GetString(), v.GetStringLength()}; }

const rj::Value* find(const rj::Value& object, std::string_view key) {
  auto it = object.FindMember(rj::Value(rj::StringRef(key.data(), key.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string describe(const rj::Value& v) {
  if (v.IsString()) return "\"" + std::string(view(v)) + "\"";
  if (v.IsObject()) return "an object";
  if (v.IsArray()) return "an array";
  if (v.IsNull()) return "null";
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  return "a number";
}

// CreateTable / AWS::DynamoDB::Table members that change nothing in an emulator.
constexpr std::array<std::string_view, 17> ignored_keys = {
    "BillingMode", "ProvisionedThroughput", "SSESpecification", "StreamSpecification", "Tags",
    "TableClass", "DeletionProtectionEnabled", "PointInTimeRecoverySpecification",
    "TimeToLiveSpecification", "ContributorInsightsSpecification", "OnDemandThroughput",
    "KinesisStreamSpecification", "ResourcePolicy", "WarmThroughput", "ImportSourceSpecification",
    "OnDemandThroughputOverride", "Description"};

bool is_table_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

struct parser {
  std::string path;
  std::string error;

  bool fail(const std::string& where, const std::string& message) {
    error = where + ": " + message;
    return false;
  }

  bool parse(const rj::Value& v, table_schema& out) {
    if (!v.IsObject()) {
      return fail(path, "expected an object like {\"TableName\": ..., \"KeySchema\": [...], "
                        "\"AttributeDefinitions\": [...]}, found " + describe(v));
    }
    std::set<std::string_view> seen;
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      std::string_view key = view(m->name);
      std::string where = path + "." + std::string(key);
      if (!seen.insert(key).second) return fail(where, "duplicate key");
      if (key == "TableName" || key == "KeySchema" || key == "AttributeDefinitions") continue;
      if (key == "GlobalSecondaryIndexes" || key == "LocalSecondaryIndexes") {
        return fail(where, "secondary indexes are not emulated; remove " + std::string(key) +
                               " (Query the table's own key instead)");
      }
      if (std::find(ignored_keys.begin(), ignored_keys.end(), key) == ignored_keys.end()) {
        return fail(where, "unknown key; a table takes TableName, KeySchema and "
                           "AttributeDefinitions (CreateTable's other settings are ignored)");
      }
    }

    const rj::Value* name = find(v, "TableName");
    if (!name) return fail(path + ".TableName", "missing; every table needs a name");
    if (!name->IsString() || name->GetStringLength() < 3 || name->GetStringLength() > 255 ||
        !std::all_of(name->GetString(), name->GetString() + name->GetStringLength(),
                     is_table_name_char)) {
      return fail(path + ".TableName",
                  "expected 3 to 255 letters, digits, '_', '-' or '.', found " + describe(*name));
    }
    out.name.assign(view(*name));

    // Types first, so that the key schema can be checked against them.
    const rj::Value* defs = find(v, "AttributeDefinitions");
    std::string defs_path = path + ".AttributeDefinitions";
    if (!defs) return fail(defs_path, "missing; declare the type (S, N or B) of each key attribute");
    if (!defs->IsArray() || defs->Empty()) {
      return fail(defs_path, "expected a non-empty array of {\"AttributeName\", \"AttributeType\"}, found " +
                                 describe(*defs));
    }
    std::vector<key_attribute> types;
    for (rj::SizeType i = 0; i < defs->Size(); ++i) {
      std::string at = defs_path + "[" + std::to_string(i) + "]";
      const rj::Value& d = (*defs)[i];
      if (!d.IsObject()) return fail(at, "expected {\"AttributeName\", \"AttributeType\"}, found " + describe(d));
      for (auto m = d.MemberBegin(); m != d.MemberEnd(); ++m) {
        if (view(m->name) != "AttributeName" && view(m->name) != "AttributeType") {
          return fail(at + "." + std::string(view(m->name)),
                      "unknown key; expected AttributeName and AttributeType");
        }
      }
      const rj::Value* n = find(d, "AttributeName");
      if (!n || !n->IsString() || n->GetStringLength() == 0) {
        return fail(at + ".AttributeName", "expected a non-empty string");
      }
      const rj::Value* t = find(d, "AttributeType");
      std::optional<key_type> type;
      if (t && t->IsString()) type = parse_key_type(view(*t));
      if (!type) {
        return fail(at + ".AttributeType", "expected \"S\", \"N\" or \"B\", found " +
                                               (t ? describe(*t) : std::string("nothing")));
      }
      for (const key_attribute& k : types) {
        if (k.name == view(*n)) return fail(at, "attribute " + k.name + " is defined twice");
      }
      types.push_back({std::string(view(*n)), *type});
    }

    const rj::Value* keys = find(v, "KeySchema");
    std::string keys_path = path + ".KeySchema";
    if (!keys) {
      return fail(keys_path, "missing; e.g. [{\"AttributeName\": \"connectionId\", \"KeyType\": \"HASH\"}]");
    }
    if (!keys->IsArray() || keys->Empty() || keys->Size() > 2) {
      return fail(keys_path, "expected an array of 1 or 2 elements (HASH, then optional RANGE), found " +
                                 (keys->IsArray() ? std::to_string(keys->Size()) + " elements"
                                                  : describe(*keys)));
    }
    std::vector<key_attribute> key_attrs;
    for (rj::SizeType i = 0; i < keys->Size(); ++i) {
      std::string at = keys_path + "[" + std::to_string(i) + "]";
      const rj::Value& k = (*keys)[i];
      if (!k.IsObject()) return fail(at, "expected {\"AttributeName\", \"KeyType\"}, found " + describe(k));
      for (auto m = k.MemberBegin(); m != k.MemberEnd(); ++m) {
        if (view(m->name) != "AttributeName" && view(m->name) != "KeyType") {
          return fail(at + "." + std::string(view(m->name)), "unknown key; expected AttributeName and KeyType");
        }
      }
      const rj::Value* n = find(k, "AttributeName");
      if (!n || !n->IsString() || n->GetStringLength() == 0) {
        return fail(at + ".AttributeName", "expected a non-empty string");
      }
      const rj::Value* kt = find(k, "KeyType");
      std::string_view expected = i == 0 ? "HASH" : "RANGE";
      if (!kt || !kt->IsString() || view(*kt) != expected) {
        return fail(at + ".KeyType",
                    "expected \"" + std::string(expected) + "\" (the first key is HASH, the second RANGE), found " +
                        (kt ? describe(*kt) : std::string("nothing")));
      }
      auto def = std::find_if(types.begin(), types.end(),
                              [&](const key_attribute& a) { return a.name == view(*n); });
      if (def == types.end()) {
        return fail(at + ".AttributeName", "attribute " + std::string(view(*n)) +
                                               " has no entry in AttributeDefinitions; add its type there");
      }
      if (i == 1 && def->name == key_attrs[0].name) {
        return fail(at + ".AttributeName", "the RANGE key must differ from the HASH key");
      }
      key_attrs.push_back(*def);
    }
    // DynamoDB's own rule: only key attributes are defined at creation.
    if (types.size() != key_attrs.size()) {
      return fail(defs_path, "defines " + std::to_string(types.size()) + " attributes but KeySchema uses " +
                                 std::to_string(key_attrs.size()) +
                                 "; define only key attributes (DynamoDB rejects the others)");
    }
    out.hash_key = key_attrs[0];
    if (key_attrs.size() == 2) out.range_key = key_attrs[1];
    rj::StringBuffer buf;
    rj::Writer<rj::StringBuffer> w(buf);
    v.Accept(w);
    out.definition.assign(buf.GetString(), buf.GetSize());
    return true;
  }
};

}  // namespace

std::string_view to_string(key_type t) {
  switch (t) {
    case key_type::S: return "S";
    case key_type::N: return "N";
    case key_type::B: return "B";
  }
  return "S";
}

std::optional<key_type> parse_key_type(std::string_view s) {
  if (s == "S") return key_type::S;
  if (s == "N") return key_type::N;
  if (s == "B") return key_type::B;
  return std::nullopt;
}

std::string describe_keys(const table_schema& t) {
  std::string out = t.hash_key.name + " (" + std::string(to_string(t.hash_key.type)) + ") HASH";
  if (t.range_key) {
    out += ", " + t.range_key->name + " (" + std::string(to_string(t.range_key->type)) + ") RANGE";
  }
  return out;
}

result<table_schema> parse_table_schema(const rapidjson::Value& value, std::string_view json_path) {
  parser p{std::string(json_path), {}};
  table_schema t;
  if (!p.parse(value, t)) return fail(std::move(p.error));
  return t;
}

std::string to_create_table_json(const table_schema& t) {
  rj::StringBuffer buf;
  rj::Writer<rj::StringBuffer> w(buf);
  auto key = [&](const key_attribute& k, const char* type) {
    w.StartObject();
    w.Key("AttributeName");
    w.String(k.name.c_str(), static_cast<rj::SizeType>(k.name.size()));
    w.Key("KeyType");
    w.String(type);
    w.EndObject();
  };
  auto def = [&](const key_attribute& k) {
    w.StartObject();
    w.Key("AttributeName");
    w.String(k.name.c_str(), static_cast<rj::SizeType>(k.name.size()));
    w.Key("AttributeType");
    std::string_view ty = to_string(k.type);
    w.String(ty.data(), static_cast<rj::SizeType>(ty.size()));
    w.EndObject();
  };
  w.StartObject();
  w.Key("TableName");
  w.String(t.name.c_str(), static_cast<rj::SizeType>(t.name.size()));
  w.Key("KeySchema");
  w.StartArray();
  key(t.hash_key, "HASH");
  if (t.range_key) key(*t.range_key, "RANGE");
  w.EndArray();
  w.Key("AttributeDefinitions");
  w.StartArray();
  def(t.hash_key);
  if (t.range_key) def(*t.range_key);
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

}  // namespace apigw::store
