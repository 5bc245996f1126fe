#include "store/table_schema.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <utility>
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

  // A KeySchema: HASH, then optional RANGE, each defined in TYPES.
  bool parse_keys(const rj::Value* keys, const std::string& keys_path, const std::vector<key_attribute>& types,
                  std::vector<key_attribute>& key_attrs) {
    if (!keys) {
      return fail(keys_path, "missing; e.g. [{\"AttributeName\": \"connectionId\", \"KeyType\": \"HASH\"}]");
    }
    if (!keys->IsArray() || keys->Empty() || keys->Size() > 2) {
      return fail(keys_path, "expected an array of 1 or 2 elements (HASH, then optional RANGE), found " +
                                 (keys->IsArray() ? std::to_string(keys->Size()) + " elements"
                                                  : describe(*keys)));
    }
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
    return true;
  }

  // GlobalSecondaryIndexes or LocalSecondaryIndexes (GLOBAL false) at WHERE.
  bool parse_indexes(const rj::Value& list, const std::string& where, bool global,
                     const std::vector<key_attribute>& types, const std::vector<key_attribute>& table_keys,
                     std::vector<secondary_index>& out) {
    const std::size_t most = global ? 20 : 5;
    if (!list.IsArray() || list.Empty() || list.Size() > most) {
      return fail(where, "expected an array of 1 to " + std::to_string(most) + " indexes, found " +
                             (list.IsArray() ? std::to_string(list.Size()) + " elements" : describe(list)));
    }
    for (rj::SizeType n = 0; n < list.Size(); ++n) {
      const std::string at = where + "[" + std::to_string(n) + "]";
      const rj::Value& e = list[n];
      if (!e.IsObject()) {
        return fail(at, "expected {\"IndexName\", \"KeySchema\", \"Projection\"}, found " + describe(e));
      }
      for (auto m = e.MemberBegin(); m != e.MemberEnd(); ++m) {
        const std::string_view key = view(m->name);
        if (key == "IndexName" || key == "KeySchema" || key == "Projection") continue;
        if (global && (key == "ProvisionedThroughput" || key == "OnDemandThroughput" || key == "WarmThroughput" ||
                       key == "ContributorInsightsSpecification")) {
          continue;
        }
        return fail(at + "." + std::string(key), std::string("unknown key; an index takes IndexName, KeySchema") +
                                                     " and Projection" + (global ? " (and its throughput)" : ""));
      }
      secondary_index index;
      index.global = global;
      const rj::Value* name = find(e, "IndexName");
      if (!name || !valid_name(*name)) {
        return fail(at + ".IndexName", "expected 3 to 255 letters, digits, '_', '-' or '.', found " +
                                           (name ? describe(*name) : std::string("nothing")));
      }
      index.name.assign(view(*name));
      for (const secondary_index& other : out) {
        if (other.name == index.name) return fail(at + ".IndexName", "two indexes are named " + index.name);
      }
      std::vector<key_attribute> keys;
      if (!parse_keys(find(e, "KeySchema"), at + ".KeySchema", types, keys)) return false;
      index.hash_key = keys[0];
      if (keys.size() == 2) index.range_key = keys[1];
      if (!global) {
        if (table_keys.size() != 2) {
          return fail(at, "a local secondary index needs a table with a RANGE key (DynamoDB: Table KeySchema "
                          "does not have a range key, which is required when specifying a LocalSecondaryIndex)");
        }
        if (index.hash_key != table_keys[0] || !index.range_key) {
          return fail(at + ".KeySchema", "a local secondary index has the table's HASH key (" + table_keys[0].name +
                                             ") and a RANGE key of its own");
        }
      }
      if (!parse_projection(find(e, "Projection"), at + ".Projection", index)) return false;
      out.push_back(std::move(index));
    }
    return true;
  }

  bool parse_projection(const rj::Value* p, const std::string& at, secondary_index& index) {
    if (!p || !p->IsObject()) {
      return fail(at, "expected {\"ProjectionType\": \"ALL\" | \"KEYS_ONLY\" | \"INCLUDE\", "
                      "\"NonKeyAttributes\": [...]}, found " + (p ? describe(*p) : std::string("nothing")));
    }
    for (auto m = p->MemberBegin(); m != p->MemberEnd(); ++m) {
      if (view(m->name) != "ProjectionType" && view(m->name) != "NonKeyAttributes") {
        return fail(at + "." + std::string(view(m->name)), "unknown key; expected ProjectionType and NonKeyAttributes");
      }
    }
    const rj::Value* type = find(*p, "ProjectionType");
    const std::string_view t = type && type->IsString() ? view(*type) : std::string_view();
    if (t == "ALL") {
      index.projection = projection_type::all;
    } else if (t == "KEYS_ONLY") {
      index.projection = projection_type::keys_only;
    } else if (t == "INCLUDE") {
      index.projection = projection_type::include;
    } else {
      return fail(at + ".ProjectionType", "expected \"ALL\", \"KEYS_ONLY\" or \"INCLUDE\", found " +
                                              (type ? describe(*type) : std::string("nothing")));
    }
    const rj::Value* non_key = find(*p, "NonKeyAttributes");
    if (index.projection != projection_type::include) {
      if (non_key) return fail(at + ".NonKeyAttributes", "only an INCLUDE projection takes NonKeyAttributes");
      return true;
    }
    if (!non_key || !non_key->IsArray() || non_key->Empty()) {
      return fail(at + ".NonKeyAttributes", "an INCLUDE projection needs a non-empty array of attribute names");
    }
    for (rj::SizeType i = 0; i < non_key->Size(); ++i) {
      const rj::Value& a = (*non_key)[i];
      if (!a.IsString() || a.GetStringLength() == 0) {
        return fail(at + ".NonKeyAttributes[" + std::to_string(i) + "]", "expected an attribute name, found " +
                                                                             describe(a));
      }
      index.non_key_attributes.emplace_back(view(a));
    }
    return true;
  }

  static bool valid_name(const rj::Value& name) {
    return name.IsString() && name.GetStringLength() >= 3 && name.GetStringLength() <= 255 &&
           std::all_of(name.GetString(), name.GetString() + name.GetStringLength(), is_table_name_char);
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
      if (key == "GlobalSecondaryIndexes" || key == "LocalSecondaryIndexes") continue;
      if (std::find(ignored_keys.begin(), ignored_keys.end(), key) == ignored_keys.end()) {
        return fail(where, "unknown key; a table takes TableName, KeySchema, AttributeDefinitions and "
                           "secondary indexes (CreateTable's other settings are ignored)");
      }
    }

    const rj::Value* name = find(v, "TableName");
    if (!name) return fail(path + ".TableName", "missing; every table needs a name");
    if (!valid_name(*name)) {
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

    std::vector<key_attribute> key_attrs;
    if (!parse_keys(find(v, "KeySchema"), path + ".KeySchema", types, key_attrs)) return false;
    std::set<std::string> used = {key_attrs[0].name};
    if (key_attrs.size() == 2) used.insert(key_attrs[1].name);
    for (const auto& [member_name, global] : {std::pair{"GlobalSecondaryIndexes", true},
                                              std::pair{"LocalSecondaryIndexes", false}}) {
      const rj::Value* list = find(v, member_name);
      if (!list) continue;
      if (!parse_indexes(*list, path + "." + member_name, global, types, key_attrs, out.indexes)) return false;
    }
    for (const secondary_index& i : out.indexes) {
      used.insert(i.hash_key.name);
      if (i.range_key) used.insert(i.range_key->name);
    }
    // DynamoDB's own rule: only key attributes are defined at creation.
    if (types.size() != used.size()) {
      std::string names;
      for (const std::string& n : used) names += (names.empty() ? "" : ", ") + n;
      return fail(defs_path, "defines " + std::to_string(types.size()) + " attributes but the key schemas use " +
                                 std::to_string(used.size()) + " (" + names +
                                 "); define only key attributes (DynamoDB rejects the others)");
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
  auto string = [&](std::string_view s) { w.String(s.data(), static_cast<rj::SizeType>(s.size())); };
  auto key_schema = [&](const key_attribute& hash, const std::optional<key_attribute>& range) {
    w.Key("KeySchema");
    w.StartArray();
    for (const key_attribute* k : {&hash, range ? &*range : nullptr}) {
      if (!k) continue;
      w.StartObject();
      w.Key("AttributeName");
      string(k->name);
      w.Key("KeyType");
      w.String(k == &hash ? "HASH" : "RANGE");
      w.EndObject();
    }
    w.EndArray();
  };
  // Each attribute once, in the order the key schemas use them.
  std::vector<key_attribute> defined;
  auto define = [&](const key_attribute& k) {
    if (std::find(defined.begin(), defined.end(), k) == defined.end()) defined.push_back(k);
  };
  define(t.hash_key);
  if (t.range_key) define(*t.range_key);
  for (const secondary_index& i : t.indexes) {
    define(i.hash_key);
    if (i.range_key) define(*i.range_key);
  }
  w.StartObject();
  w.Key("TableName");
  string(t.name);
  key_schema(t.hash_key, t.range_key);
  w.Key("AttributeDefinitions");
  w.StartArray();
  for (const key_attribute& k : defined) {
    w.StartObject();
    w.Key("AttributeName");
    string(k.name);
    w.Key("AttributeType");
    string(to_string(k.type));
    w.EndObject();
  }
  w.EndArray();
  for (const bool global : {true, false}) {
    bool any = false;
    for (const secondary_index& i : t.indexes) {
      if (i.global != global) continue;
      if (!any) {
        w.Key(global ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes");
        w.StartArray();
        any = true;
      }
      w.StartObject();
      w.Key("IndexName");
      string(i.name);
      key_schema(i.hash_key, i.range_key);
      w.Key("Projection");
      w.StartObject();
      w.Key("ProjectionType");
      w.String(i.projection == projection_type::all         ? "ALL"
               : i.projection == projection_type::keys_only ? "KEYS_ONLY"
                                                            : "INCLUDE");
      if (i.projection == projection_type::include) {
        w.Key("NonKeyAttributes");
        w.StartArray();
        for (const std::string& a : i.non_key_attributes) string(a);
        w.EndArray();
      }
      w.EndObject();
      w.EndObject();
    }
    if (any) w.EndArray();
  }
  w.EndObject();
  return buf.GetString();
}

}  // namespace apigw::store
