// The table operations of item_tables: CreateTable, DeleteTable, DescribeTable, UpdateTable and
// ListTables, with DynamoDB's answers and error wording. A table's CreateTable JSON (with the
// settings UpdateTable changed) is what store_tables keeps, so a store file shows the same
// billing mode and throughput after a restart.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "store/item_tables.hpp"
#include "store/request_support.hpp"

namespace apigw::store {
namespace {

using detail::fail;
using detail::fail_internal;
using detail::failure;
using detail::guarded;
using detail::member;
using detail::prepare;
using detail::required;
using detail::to_text;
using detail::view;
namespace rj = rapidjson;

constexpr long long kMaxListTables = 100;

double seconds_now() {
  using namespace std::chrono;
  return static_cast<double>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()) / 1000.0;
}

std::string table_name(const rj::Value& request) {
  if (!request.IsObject()) fail("The request must be a JSON object");
  const rj::Value& v = required(request, "TableName", "tableName");
  if (!v.IsString()) fail("TableName must be a string");
  return std::string(view(v));
}

[[noreturn]] void not_found(const std::string& name) {
  throw failure{dynamo_error::resource_not_found, "Requested resource not found: Table: " + name + " not found"};
}

// The billing rules CreateTable and UpdateTable check. Settings DynamoDB refuses on either.
void check_billing(const rj::Value& request, bool creating) {
  const rj::Value* mode = member(request, "BillingMode");
  if (mode && (!mode->IsString() || (view(*mode) != "PROVISIONED" && view(*mode) != "PAY_PER_REQUEST"))) {
    fail("1 validation error detected: Value '" + (mode->IsString() ? std::string(view(*mode)) : to_text(*mode)) +
         "' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: "
         "[PROVISIONED, PAY_PER_REQUEST]");
  }
  const rj::Value* throughput = member(request, "ProvisionedThroughput");
  if (throughput) {
    for (const char* units : {"ReadCapacityUnits", "WriteCapacityUnits"}) {
      const rj::Value* u = throughput->IsObject() ? member(*throughput, units) : nullptr;
      if (!u || !u->IsInt64() || u->GetInt64() < 1) {
        fail(std::string("One or more parameter values were invalid: ") + units +
             " must be a whole number of at least 1 in ProvisionedThroughput");
      }
    }
  }
  const bool on_demand = mode && view(*mode) == "PAY_PER_REQUEST";
  if (on_demand && throughput) {
    fail("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be "
         "specified when BillingMode is PAY_PER_REQUEST");
  }
  if (creating && !on_demand && !throughput) {
    fail("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be "
         "specified when BillingMode is PROVISIONED");
  }
  if (const rj::Value* gsis = member(request, "GlobalSecondaryIndexes"); creating && gsis && gsis->IsArray()) {
    for (const rj::Value& index : gsis->GetArray()) {
      const rj::Value* name = index.IsObject() ? member(index, "IndexName") : nullptr;
      const std::string index_name = name && name->IsString() ? std::string(view(*name)) : std::string();
      const bool has_throughput = index.IsObject() && member(index, "ProvisionedThroughput");
      if (on_demand && has_throughput) {
        fail("One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: " +
             index_name + " when BillingMode is PAY_PER_REQUEST");
      }
      if (!on_demand && !has_throughput) {
        fail("One or more parameter values were invalid: ProvisionedThroughput must be specified for index: " +
             index_name);
      }
    }
  }
  if (const rj::Value* p = member(request, "DeletionProtectionEnabled"); p && !p->IsBool()) {
    fail("DeletionProtectionEnabled must be a boolean");
  }
}

// What is refused because it is not emulated, rather than accepted and then not done.
void refuse_unemulated(const rj::Value& request) {
  if (member(request, "GlobalSecondaryIndexUpdates")) {
    fail("GlobalSecondaryIndexUpdates is not supported by the emulator: declare the table's indexes when it is "
         "created (CreateTable or the configuration), or delete and create it again");
  }
  if (member(request, "ReplicaUpdates")) fail("ReplicaUpdates is not supported by the emulator: there is one region");
}

rj::Value copy_member(const rj::Value& from, const char* name, rj::Document::AllocatorType& alloc) {
  const rj::Value* v = member(from, name);
  return v ? rj::Value(*v, alloc) : rj::Value();
}

// A description's ProvisionedThroughput from the ProvisionedThroughput of DECLARED (a table's
// definition or one of its global indexes): 0 units when on demand.
rj::Value throughput_description(const rj::Value& declared, rj::Document::AllocatorType& alloc) {
  std::int64_t read_units = 0;
  std::int64_t write_units = 0;
  if (const rj::Value* p = member(declared, "ProvisionedThroughput"); p && p->IsObject()) {
    if (const rj::Value* r = member(*p, "ReadCapacityUnits"); r && r->IsInt64()) read_units = r->GetInt64();
    if (const rj::Value* w = member(*p, "WriteCapacityUnits"); w && w->IsInt64()) write_units = w->GetInt64();
  }
  rj::Value throughput(rj::kObjectType);
  throughput.AddMember("NumberOfDecreasesToday", 0, alloc);
  throughput.AddMember("ReadCapacityUnits", read_units, alloc);
  throughput.AddMember("WriteCapacityUnits", write_units, alloc);
  return throughput;
}

// The attribute of an enabled TimeToLiveSpecification in DEFINITION, or "".
std::string ttl_attribute_of(const rj::Value& definition) {
  const rj::Value* spec = member(definition, "TimeToLiveSpecification");
  if (!spec || !spec->IsObject()) return {};
  const rj::Value* enabled = member(*spec, "Enabled");
  const rj::Value* name = member(*spec, "AttributeName");
  if (!enabled || !enabled->IsBool() || !enabled->GetBool() || !name || !name->IsString()) return {};
  return std::string(view(*name));
}

}  // namespace

void item_tables::write_definition(const std::string& name, const std::string& definition) {
  auto st = prepare(db_, "INSERT OR REPLACE INTO store_tables (name, definition) VALUES (?1, ?2)");
  st->bind_text(1, name);
  st->bind_text(2, definition);
  if (st->step() != statement::step_result::done) fail_internal(st->error_message());
}

const table_schema& item_tables::existing_table(const std::string& name) const {
  auto it = tables_.find(name);
  if (it == tables_.end()) not_found(name);
  return it->second;
}

void item_tables::add_table(const table_schema& schema, std::string definition) {
  rj::Document d;
  d.Parse(definition.c_str());
  std::string ttl = d.IsObject() ? ttl_attribute_of(d) : std::string();
  tables_.insert_or_assign(schema.name, schema);
  details_.insert_or_assign(schema.name, table_details{std::move(definition), seconds_now(), std::move(ttl), {}});
}

rj::Value item_tables::describe(const table_schema& t, std::string_view status, rj::Document::AllocatorType& alloc) {
  const table_details& details = details_.at(t.name);
  rj::Document definition;
  definition.Parse(details.definition.c_str());
  if (definition.HasParseError() || !definition.IsObject()) fail_internal("the definition of " + t.name + " is damaged");

  std::int64_t items = 0;
  std::int64_t bytes = 0;
  {
    auto st = prepare(db_, "SELECT COUNT(*), COALESCE(SUM(LENGTH(item)), 0) FROM store_items WHERE tbl = ?1");
    st->bind_text(1, t.name);
    if (st->step() != statement::step_result::row) fail_internal(st->error_message());
    items = st->column_int64(0);
    bytes = st->column_int64(1);
  }

  rj::Value d(rj::kObjectType);
  d.AddMember("AttributeDefinitions", copy_member(definition, "AttributeDefinitions", alloc), alloc);
  d.AddMember("TableName", rj::Value(t.name.c_str(), alloc), alloc);
  d.AddMember("KeySchema", copy_member(definition, "KeySchema", alloc), alloc);
  d.AddMember("TableStatus", rj::Value(status.data(), static_cast<rj::SizeType>(status.size()), alloc), alloc);
  d.AddMember("CreationDateTime", details.created, alloc);
  d.AddMember("ProvisionedThroughput", throughput_description(definition, alloc), alloc);
  d.AddMember("TableSizeBytes", bytes, alloc);
  d.AddMember("ItemCount", items, alloc);
  const std::string arn = arn_prefix_ + t.name;
  d.AddMember("TableArn", rj::Value(arn.c_str(), alloc), alloc);
  const rj::Value* mode = member(definition, "BillingMode");
  if (mode && mode->IsString() && view(*mode) == "PAY_PER_REQUEST") {
    rj::Value billing(rj::kObjectType);
    billing.AddMember("BillingMode", "PAY_PER_REQUEST", alloc);
    billing.AddMember("LastUpdateToPayPerRequestDateTime", details.created, alloc);
    d.AddMember("BillingModeSummary", billing, alloc);
  }
  const rj::Value* protection = member(definition, "DeletionProtectionEnabled");
  d.AddMember("DeletionProtectionEnabled", protection && protection->IsBool() && protection->GetBool(), alloc);
  if (!t.indexes.empty()) describe_indexes(t, definition, arn, d, alloc);
  return d;
}

void item_tables::describe_indexes(const table_schema& t, const rj::Value& definition, const std::string& table_arn,
                                   rj::Value& description, rj::Document::AllocatorType& alloc) {
  std::map<std::string, std::pair<std::int64_t, std::int64_t>, std::less<>> sizes;  // items, bytes
  auto st = prepare(db_,
                    "SELECT x.idx, COUNT(*), COALESCE(SUM(LENGTH(i.item)), 0) FROM store_index x JOIN store_items i "
                    "ON i.tbl = x.tbl AND i.hk = x.hk AND i.rk = x.rk WHERE x.tbl = ?1 GROUP BY x.idx");
  st->bind_text(1, t.name);
  while (true) {
    auto step = st->step();
    if (step == statement::step_result::done) break;
    if (step == statement::step_result::error) fail_internal(st->error_message());
    sizes[std::string(st->column_text(0))] = {st->column_int64(1), st->column_int64(2)};
  }
  for (const char* list : {"GlobalSecondaryIndexes", "LocalSecondaryIndexes"}) {
    const rj::Value* declared = member(definition, list);
    if (!declared || !declared->IsArray()) continue;
    const bool global = list[0] == 'G';
    rj::Value out(rj::kArrayType);
    for (const rj::Value& index : declared->GetArray()) {
      const std::string name(view(index["IndexName"]));
      rj::Value e(rj::kObjectType);
      e.AddMember("IndexName", rj::Value(name.c_str(), alloc), alloc);
      e.AddMember("KeySchema", copy_member(index, "KeySchema", alloc), alloc);
      e.AddMember("Projection", copy_member(index, "Projection", alloc), alloc);
      if (global) {
        e.AddMember("IndexStatus", "ACTIVE", alloc);
        e.AddMember("ProvisionedThroughput", throughput_description(index, alloc), alloc);
      }
      const auto size = sizes.find(name);
      e.AddMember("IndexSizeBytes", size == sizes.end() ? 0 : size->second.second, alloc);
      e.AddMember("ItemCount", size == sizes.end() ? 0 : size->second.first, alloc);
      const std::string arn = table_arn + "/index/" + name;
      e.AddMember("IndexArn", rj::Value(arn.c_str(), alloc), alloc);
      out.PushBack(e, alloc);
    }
    description.AddMember(rj::StringRef(list), out, alloc);
  }
}

dynamo_result item_tables::create_table(const rj::Value& request) {
  return guarded([&] {
    const std::string name = table_name(request);
    refuse_unemulated(request);
    auto schema = parse_table_schema(request, "CreateTable");
    if (!schema) fail(schema.error());
    check_billing(request, true);
    if (tables_.count(name)) throw failure{dynamo_error::resource_in_use, "Table already exists: " + name};
    const std::string definition = to_text(request);
    write_definition(name, definition);
    add_table(*schema, definition);
    dynamo_result r;
    auto& alloc = r.body().GetAllocator();
    r.body().AddMember("TableDescription", describe(tables_.at(name), "ACTIVE", alloc), alloc);
    return r;
  });
}

dynamo_result item_tables::delete_table(const rj::Value& request) {
  return guarded([&] {
    const std::string name = table_name(request);
    const table_schema& table = existing_table(name);
    dynamo_result r;
    auto& alloc = r.body().GetAllocator();
    rj::Value description = describe(table, "DELETING", alloc);
    if (description["DeletionProtectionEnabled"].GetBool()) {
      throw failure{dynamo_error::resource_in_use,
                    "Resource cannot be deleted as it is currently protected against deletion. Disable deletion "
                    "protection first."};
    }
    detail::write_transaction transaction(db_);
    for (const char* sql : {"DELETE FROM store_index WHERE tbl = ?1", "DELETE FROM store_items WHERE tbl = ?1",
                            "DELETE FROM store_tables WHERE name = ?1"}) {
      auto st = prepare(db_, sql);
      st->bind_text(1, name);
      if (st->step() != statement::step_result::done) fail_internal(st->error_message());
    }
    transaction.commit();
    tables_.erase(name);
    details_.erase(name);
    r.body().AddMember("TableDescription", description, alloc);
    return r;
  });
}

dynamo_result item_tables::describe_table(const rj::Value& request) {
  return guarded([&] {
    const std::string name = table_name(request);
    const table_schema& table = existing_table(name);
    dynamo_result r;
    auto& alloc = r.body().GetAllocator();
    r.body().AddMember("Table", describe(table, "ACTIVE", alloc), alloc);
    return r;
  });
}

dynamo_result item_tables::update_table(const rj::Value& request) {
  return guarded([&] {
    const std::string name = table_name(request);
    refuse_unemulated(request);
    check_billing(request, false);
    const table_schema& table = existing_table(name);

    // The settings a description shows are kept; the rest (streams, SSE, table class, ...) are
    // accepted and change nothing (docs/store.md lists them).
    rj::Document definition;
    definition.Parse(details_.at(name).definition.c_str());
    auto& a = definition.GetAllocator();
    auto set = [&](const char* key, const rj::Value& value) {
      definition.RemoveMember(key);
      definition.AddMember(rj::Value(key, a), rj::Value(value, a), a);
    };
    if (const rj::Value* mode = member(request, "BillingMode")) {
      set("BillingMode", *mode);
      if (view(*mode) == "PAY_PER_REQUEST") definition.RemoveMember("ProvisionedThroughput");
    }
    if (const rj::Value* throughput = member(request, "ProvisionedThroughput")) {
      const rj::Value* mode = member(definition, "BillingMode");
      if (mode && view(*mode) == "PAY_PER_REQUEST") {
        fail("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be "
             "specified when BillingMode is PAY_PER_REQUEST");
      }
      set("ProvisionedThroughput", *throughput);
    }
    if (const rj::Value* p = member(request, "DeletionProtectionEnabled")) set("DeletionProtectionEnabled", *p);
    const std::string text = to_text(definition);
    write_definition(name, text);
    details_.at(name).definition = text;

    dynamo_result r;
    auto& alloc = r.body().GetAllocator();
    r.body().AddMember("TableDescription", describe(table, "ACTIVE", alloc), alloc);
    return r;
  });
}

dynamo_result item_tables::update_time_to_live(const rj::Value& request) {
  return guarded([&] {
    const std::string name = table_name(request);
    const rj::Value& spec = required(request, "TimeToLiveSpecification", "timeToLiveSpecification");
    const rj::Value* enabled = spec.IsObject() ? member(spec, "Enabled") : nullptr;
    const rj::Value* attribute = spec.IsObject() ? member(spec, "AttributeName") : nullptr;
    if (!enabled || !enabled->IsBool()) {
      fail("1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy "
           "constraint: Member must not be null");
    }
    if (!attribute || !attribute->IsString() || attribute->GetStringLength() == 0 ||
        attribute->GetStringLength() > 255) {
      fail("1 validation error detected: Value at 'timeToLiveSpecification.attributeName' failed to satisfy "
           "constraint: Member must have length between 1 and 255");
    }
    if (std::string_view(view(*attribute)).find('"') != std::string_view::npos) {
      fail("TimeToLiveSpecification.AttributeName: a name with '\"' is not supported by the emulator");
    }
    existing_table(name);
    table_details& details = details_.at(name);
    if (enabled->GetBool() && !details.ttl_attribute.empty()) fail("TimeToLive is already enabled");
    if (!enabled->GetBool() && details.ttl_attribute.empty()) fail("TimeToLive is already disabled");

    rj::Document definition;
    definition.Parse(details.definition.c_str());
    definition.RemoveMember("TimeToLiveSpecification");
    definition.AddMember("TimeToLiveSpecification", rj::Value(spec, definition.GetAllocator()),
                         definition.GetAllocator());
    const std::string text = to_text(definition);
    write_definition(name, text);
    details.definition = text;
    details.ttl_attribute = enabled->GetBool() ? std::string(view(*attribute)) : std::string();
    details.last_expiry = {};

    dynamo_result r;
    auto& alloc = r.body().GetAllocator();
    rj::Value answer(rj::kObjectType);
    answer.AddMember("Enabled", enabled->GetBool(), alloc);
    answer.AddMember("AttributeName", rj::Value(*attribute, alloc), alloc);
    r.body().AddMember("TimeToLiveSpecification", answer, alloc);
    return r;
  });
}

dynamo_result item_tables::describe_time_to_live(const rj::Value& request) {
  return guarded([&] {
    const std::string name = table_name(request);
    existing_table(name);
    const table_details& details = details_.at(name);
    dynamo_result r;
    auto& alloc = r.body().GetAllocator();
    rj::Value description(rj::kObjectType);
    // Enabling and disabling take effect at once here (AWS passes through ENABLING / DISABLING).
    description.AddMember("TimeToLiveStatus", rj::StringRef(details.ttl_attribute.empty() ? "DISABLED" : "ENABLED"),
                          alloc);
    if (!details.ttl_attribute.empty()) {
      description.AddMember("AttributeName", rj::Value(details.ttl_attribute.c_str(), alloc), alloc);
    }
    r.body().AddMember("TimeToLiveDescription", description, alloc);
    return r;
  });
}

void item_tables::expire_items() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& [name, details] : details_) {
    if (details.ttl_attribute.empty() || now - details.last_expiry < std::chrono::seconds(1)) continue;
    details.last_expiry = now;
    const double epoch = seconds_now();
    constexpr double five_years = 5 * 365.25 * 24 * 3600;
    // Only a number counts ({"N": "..."}: the path ends in .N); the name is quoted whole.
    constexpr std::string_view expired =
        "tbl = ?1 AND json_extract(item, ?2) IS NOT NULL "
        "AND CAST(json_extract(item, ?2) AS REAL) >= ?3 AND CAST(json_extract(item, ?2) AS REAL) < ?4";
    const std::string index_rows = "DELETE FROM store_index WHERE tbl = ?1 AND (hk, rk) IN "
                                   "(SELECT hk, rk FROM store_items WHERE " + std::string(expired) + ")";
    const std::string items = "DELETE FROM store_items WHERE " + std::string(expired);
    // The operation that follows meets any failure here again and reports it.
    if (!db_.exec("SAVEPOINT expiry")) continue;
    bool done = true;
    for (const std::string* sql : {&index_rows, &items}) {
      if (sql == &index_rows && tables_.at(name).indexes.empty()) continue;
      auto st = db_.prepare(*sql);
      if (!st) {
        done = false;
        break;
      }
      auto& s = *st;
      s->bind_text(1, name);
      s->bind_text(2, "$.\"" + details.ttl_attribute + "\".N");
      s->bind_double(3, epoch - five_years);
      s->bind_double(4, epoch);
      done = done && s->step() == statement::step_result::done;
    }
    if (!done) static_cast<void>(db_.exec("ROLLBACK TO expiry"));
    static_cast<void>(db_.exec("RELEASE expiry"));
  }
}

dynamo_result item_tables::list_tables(const rj::Value& request) {
  return guarded([&] {
    if (!request.IsObject()) fail("The request must be a JSON object");
    long long limit = kMaxListTables;
    if (const rj::Value* l = member(request, "Limit")) {
      if (!l->IsInt64() || l->GetInt64() < 1 || l->GetInt64() > kMaxListTables) {
        fail("1 validation error detected: Value '" + to_text(*l) +
             "' at 'limit' failed to satisfy constraint: Member must have value " +
             (l->IsInt64() && l->GetInt64() > kMaxListTables ? "less than or equal to 100"
                                                             : "greater than or equal to 1"));
      }
      limit = l->GetInt64();
    }
    auto it = tables_.begin();
    if (const rj::Value* start = member(request, "ExclusiveStartTableName")) {
      if (!start->IsString()) fail("ExclusiveStartTableName must be a string");
      it = tables_.upper_bound(view(*start));
    }
    dynamo_result r;
    auto& alloc = r.body().GetAllocator();
    rj::Value names(rj::kArrayType);
    for (long long n = 0; it != tables_.end() && n < limit; ++it, ++n) {
      names.PushBack(rj::Value(it->first.c_str(), alloc), alloc);
    }
    if (it != tables_.end()) {
      r.body().AddMember("LastEvaluatedTableName", rj::Value(names[names.Size() - 1], alloc), alloc);
    }
    r.body().AddMember("TableNames", names, alloc);
    return r;
  });
}

}  // namespace apigw::store
