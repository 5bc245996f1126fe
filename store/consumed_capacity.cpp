#include "store/consumed_capacity.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "store/attribute_value.hpp"

namespace apigw::store {
namespace {

namespace rj = rapidjson;

constexpr double kWriteUnitBytes = 1024;
constexpr double kReadUnitBytes = 4096;

const rj::Value* member(const rj::Value& object, const char* key) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(key);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string table_of(const rj::Value& request) {
  const rj::Value* name = member(request, "TableName");
  return name && name->IsString() ? std::string(name->GetString(), name->GetStringLength()) : std::string();
}

double write_units(const rj::Value* item) {
  const double bytes = item && item->IsObject() ? static_cast<double>(item_size(*item)) : 0;
  return std::max(1.0, std::ceil(bytes / kWriteUnitBytes));
}

bool consistent(const rj::Value& request) {
  const rj::Value* c = member(request, "ConsistentRead");
  return c && c->IsBool() && c->GetBool();
}

// Units for reading BYTES at once (a Query's page is one read of all its items).
double read_units(double bytes, bool strongly) {
  const double units = std::max(1.0, std::ceil(bytes / kReadUnitBytes));
  return strongly ? units : units / 2;
}

double items_bytes(const rj::Value* items) {
  double bytes = 0;
  if (items && items->IsArray()) {
    for (const rj::Value& item : items->GetArray()) {
      if (item.IsObject()) bytes += static_cast<double>(item_size(item));
    }
  }
  return bytes;
}

rj::Value entry(const std::string& table, double units, capacity_report report, rj::Document::AllocatorType& a,
                const secondary_index* index = nullptr) {
  rj::Value e(rj::kObjectType);
  e.AddMember("TableName", rj::Value(table.c_str(), a), a);
  e.AddMember("CapacityUnits", units, a);
  if (report == capacity_report::indexes) {
    rj::Value t(rj::kObjectType);
    t.AddMember("CapacityUnits", index ? 0.0 : units, a);
    e.AddMember("Table", t, a);
    if (index) {
      rj::Value used(rj::kObjectType);
      used.AddMember("CapacityUnits", units, a);
      rj::Value by_name(rj::kObjectType);
      by_name.AddMember(rj::Value(index->name.c_str(), a), used, a);
      e.AddMember(rj::StringRef(index->global ? "GlobalSecondaryIndexes" : "LocalSecondaryIndexes"), by_name, a);
    }
  }
  return e;
}

}  // namespace

std::optional<dynamo_result> read_capacity_report(const rj::Value& request, capacity_report& out) {
  out = capacity_report::none;
  const rj::Value* v = member(request, "ReturnConsumedCapacity");
  if (!v) return std::nullopt;
  const std::string value = v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : std::string("?");
  if (value == "NONE") return std::nullopt;
  if (value == "TOTAL") {
    out = capacity_report::total;
    return std::nullopt;
  }
  if (value == "INDEXES") {
    out = capacity_report::indexes;
    return std::nullopt;
  }
  return dynamo_result(dynamo_error::validation,
                       "1 validation error detected: Value '" + value +
                           "' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum "
                           "value set: [INDEXES, TOTAL, NONE]");
}

void add_consumed_capacity(std::string_view operation, const rj::Value& request, capacity_report report,
                           dynamo_result& r, const secondary_index* index) {
  if (report == capacity_report::none || !r.ok()) return;
  auto& a = r.body().GetAllocator();
  const rj::Value& answer = r.body();

  if (operation == "PutItem" || operation == "UpdateItem" || operation == "DeleteItem" || operation == "GetItem" ||
      operation == "Query" || operation == "Scan") {
    double units = 1;
    if (operation == "PutItem") units = write_units(member(request, "Item"));
    if (operation == "GetItem") {
      const rj::Value* item = member(answer, "Item");
      units = read_units(item ? static_cast<double>(item_size(*item)) : 0, consistent(request));
    }
    if (operation == "Query" || operation == "Scan") {
      units = read_units(items_bytes(member(answer, "Items")), consistent(request));
    }
    r.body().AddMember("ConsumedCapacity", entry(table_of(request), units, report, a, index), a);
    return;
  }

  std::map<std::string, double> per_table;
  if (operation == "BatchWriteItem") {
    if (const rj::Value* items = member(request, "RequestItems"); items && items->IsObject()) {
      for (auto t = items->MemberBegin(); t != items->MemberEnd(); ++t) {
        double& units = per_table[t->name.GetString()];
        for (const rj::Value& w : t->value.GetArray()) {
          const rj::Value* put = member(w, "PutRequest");
          units += write_units(put ? member(*put, "Item") : nullptr);  // a delete: 1 unit
        }
      }
    }
  } else if (operation == "BatchGetItem") {
    if (const rj::Value* items = member(request, "RequestItems"); items && items->IsObject()) {
      const rj::Value* responses = member(answer, "Responses");
      for (auto t = items->MemberBegin(); t != items->MemberEnd(); ++t) {
        double& units = per_table[t->name.GetString()];
        const rj::Value* found = responses ? member(*responses, t->name.GetString()) : nullptr;
        if (found && found->IsArray()) {
          for (const rj::Value& item : found->GetArray()) {
            units += read_units(static_cast<double>(item_size(item)), consistent(t->value));
          }
        }
      }
    }
  } else if (operation == "TransactWriteItems" || operation == "TransactGetItems") {
    const rj::Value* actions = member(request, "TransactItems");
    const rj::Value* responses = member(answer, "Responses");
    for (rj::SizeType i = 0; actions && actions->IsArray() && i < actions->Size(); ++i) {
      const rj::Value& action = (*actions)[i].MemberBegin()->value;
      double units = 0;
      if (operation == "TransactGetItems") {
        const rj::Value* item = responses && i < responses->Size() ? member((*responses)[i], "Item") : nullptr;
        units = read_units(item ? static_cast<double>(item_size(*item)) : 0, true);
      } else {
        units = write_units(member(action, "Item"));
      }
      per_table[table_of(action)] += 2 * units;  // a transaction prepares and commits
    }
  } else {
    return;  // the table operations take no ReturnConsumedCapacity
  }
  rj::Value list(rj::kArrayType);
  for (const auto& [table, units] : per_table) list.PushBack(entry(table, units, report, a), a);
  r.body().AddMember("ConsumedCapacity", list, a);
}

}  // namespace apigw::store
