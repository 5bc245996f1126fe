#include "store/item_tables.hpp"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "store/attribute_value.hpp"
#include "store/decimal.hpp"
#include "store/expression.hpp"
#include "store/request_support.hpp"

namespace apigw::store {
namespace {

using detail::fail;
using detail::fail_internal;
using detail::failure;
using detail::guarded;
using detail::member;
using detail::optional_string;
using detail::prepare;
using detail::required;
using detail::to_text;
using detail::view;
namespace rj = rapidjson;

// DynamoDB's limits.
constexpr std::size_t max_item_bytes = 400 * 1024;
constexpr std::size_t max_page_bytes = 1024 * 1024;

const std::string key_mismatch = "The provided key element does not match the schema";
const std::string invalid = "One or more parameter values were invalid: ";

// Parses stored items into ALLOC's memory (no copy afterwards). The parser's stack is a buffer of
// its own, used again for each item: a page of items takes no heap for it. (Parsing in place
// would be faster, but its strings would be references that a copy made with RapidJSON's
// CopyFrom does not copy: a caller that kept such a copy past the result would read freed
// memory.)
class item_parser {
 public:
  explicit item_parser(rj::Document::AllocatorType& alloc) : alloc_(alloc), stack_pool_(stack_, sizeof stack_) {}
  item_parser(const item_parser&) = delete;
  item_parser& operator=(const item_parser&) = delete;

  // REQUIRES: a NUL follows TEXT (SQLite's column text, a std::string's): the text is read as a
  // C string, which RapidJSON's SSE2 paths scan 16 bytes at a time (they know no other stream).
  // Stored items are the emulator's own JSON text, with no NUL inside.
  rj::Value parse(std::string_view text) {
    assert(text.data()[text.size()] == '\0');
    stack_pool_.Clear();
    rj::GenericDocument<rj::UTF8<>, rj::MemoryPoolAllocator<>, rj::MemoryPoolAllocator<>> d(&alloc_, kStack,
                                                                                            &stack_pool_);
    d.Parse(text.data());
    if (d.HasParseError() || !d.IsObject()) fail_internal("a stored item is not valid JSON");
    rj::Value out;
    out.Swap(d);
    return out;
  }

 private:
  // The pool holds the document's stack (kStack bytes to start with), the reader's (256 bytes,
  // where it decodes each string before the document copies it) and the pool's own header: sized
  // for all three, an item takes no chunk from the heap unless it is deeper than most.
  static constexpr std::size_t kStack = 1024;
  rj::Document::AllocatorType& alloc_;
  char stack_[kStack + 512];
  rj::MemoryPoolAllocator<> stack_pool_;
};

// REQUIRES: a NUL follows TEXT, as for item_parser::parse().
rj::Value parse_item(std::string_view text, rj::Document::AllocatorType& alloc) {
  return item_parser(alloc).parse(text);
}


struct item_key {
  std::string hk;
  std::string rk;  // empty when the table has no range key
};

// The table and its key: what every operation starts from.
class request_context {
 public:
  request_context(const std::map<std::string, table_schema, std::less<>>& tables, const rj::Value& request)
      : request_(request) {
    if (!request.IsObject()) fail("The request must be a JSON object");
    const rj::Value& name = required(request, "TableName", "tableName");
    if (!name.IsString()) fail("TableName must be a string");
    auto it = tables.find(view(name));
    if (it == tables.end()) throw failure{dynamo_error::resource_not_found, "Requested resource not found"};
    table = &it->second;
    for (std::string_view legacy : {"Expected", "ConditionalOperator", "AttributeUpdates", "AttributesToGet",
                                    "KeyConditions", "QueryFilter", "ScanFilter"}) {
      if (member(request, legacy)) {
        fail("the legacy parameter " + std::string(legacy) +
             " is not supported by the emulator; use the expression parameters instead");
      }
    }
    names_ = member(request, "ExpressionAttributeNames");
    values_ = member(request, "ExpressionAttributeValues");
    check_placeholders();
    attrs.emplace(names_, values_);
  }

  const table_schema* table = nullptr;
  std::optional<expression_attributes> attrs;

  // After every expression was parsed: DynamoDB refuses placeholders that none used.
  void check_unused() const {
    if (auto s = attrs->unused(); !s) fail(s.error());
  }

  const rj::Value* string_member(std::string_view name) const { return optional_string(request_, name); }

 private:
  void check_placeholders() {
    if (names_) {
      if (!names_->IsObject()) fail("ExpressionAttributeNames must be an object");
      if (names_->MemberCount() == 0) fail("ExpressionAttributeNames must not be empty");
      for (auto m = names_->MemberBegin(); m != names_->MemberEnd(); ++m) {
        if (m->name.GetStringLength() < 2 || m->name.GetString()[0] != '#') {
          fail("ExpressionAttributeNames contains invalid key: Syntax error; key: \"" +
               std::string(view(m->name)) + "\"");
        }
        if (!m->value.IsString() || m->value.GetStringLength() == 0) {
          fail("ExpressionAttributeNames contains invalid value: Empty attribute name for key " +
               std::string(view(m->name)));
        }
      }
    }
    if (values_) {
      if (!values_->IsObject()) fail("ExpressionAttributeValues must be an object");
      if (values_->MemberCount() == 0) fail("ExpressionAttributeValues must not be empty");
      for (auto m = values_->MemberBegin(); m != values_->MemberEnd(); ++m) {
        if (m->name.GetStringLength() < 2 || m->name.GetString()[0] != ':') {
          fail("ExpressionAttributeValues contains invalid key: Syntax error; key: \"" +
               std::string(view(m->name)) + "\"");
        }
        if (auto s = check_attribute_value(m->value); !s) {
          fail("ExpressionAttributeValues contains invalid value: " + s.error() + " for key " +
               std::string(view(m->name)));
        }
      }
    }
  }

  const rj::Value& request_;
  const rj::Value* names_ = nullptr;
  const rj::Value* values_ = nullptr;
};

std::string empty_key_message(const key_attribute& k) {
  return "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
         "contain an empty " + std::string(k.type == key_type::B ? "binary" : "string") +
         " value. Key: " + k.name;
}

bool is_empty_key_value(const rj::Value& v) {
  std::string_view t = type_of(v);
  return (t == "S" || t == "B") && payload_of(v).GetStringLength() == 0;
}

// The bytes of key attribute K in KEY (a Key or ExclusiveStartKey object), checked.
std::string key_member_bytes(const rj::Value& key, const key_attribute& k, const std::string& prefix) {
  const rj::Value* v = member(key, k.name);
  if (!v) fail(prefix + key_mismatch);
  if (auto s = check_attribute_value(*v); !s) fail(s.error());
  if (type_of(*v) != to_string(k.type)) fail(prefix + key_mismatch);
  if (is_empty_key_value(*v)) fail(empty_key_message(k));
  return key_bytes(*v, k.type);
}

// The key of a Key (or ExclusiveStartKey) object: exactly the key attributes, of their types.
item_key key_from_key(const table_schema& t, const rj::Value& key, const std::string& prefix = "") {
  if (!key.IsObject()) fail(prefix + key_mismatch);
  std::size_t expected = t.range_key ? 2 : 1;
  if (key.MemberCount() != expected) fail(prefix + key_mismatch);
  item_key out;
  out.hk = key_member_bytes(key, t.hash_key, prefix);
  if (t.range_key) out.rk = key_member_bytes(key, *t.range_key, prefix);
  return out;
}

// ExclusiveStartKey of a read of index I: the table's key and the index's, exactly.
std::pair<item_key, item_key> index_start_key(const table_schema& t, const secondary_index& i, const rj::Value& key) {
  const std::string prefix = "The provided starting key is invalid: ";
  if (!key.IsObject()) fail(prefix + key_mismatch);
  std::set<std::string_view> names = {t.hash_key.name, i.hash_key.name};
  if (t.range_key) names.insert(t.range_key->name);
  if (i.range_key) names.insert(i.range_key->name);
  if (key.MemberCount() != names.size()) fail(prefix + key_mismatch);
  std::pair<item_key, item_key> out;
  out.first.hk = key_member_bytes(key, t.hash_key, prefix);
  if (t.range_key) out.first.rk = key_member_bytes(key, *t.range_key, prefix);
  out.second.hk = key_member_bytes(key, i.hash_key, prefix);
  if (i.range_key) out.second.rk = key_member_bytes(key, *i.range_key, prefix);
  return out;
}

// Checks every attribute value of ITEM and its size.
void check_item(const rj::Value& item) {
  if (!item.IsObject()) fail("Item must be an object of attribute values");
  std::set<std::string_view> seen;
  for (auto m = item.MemberBegin(); m != item.MemberEnd(); ++m) {
    if (!seen.insert(view(m->name)).second) fail(invalid + "Duplicate attribute " + std::string(view(m->name)));
    if (auto s = check_attribute_value(m->value); !s) fail(s.error());
  }
  if (item_size(item) > max_item_bytes) fail("Item size has exceeded the maximum allowed size");
}

// The key of a (checked) item: its key attributes must be present with the declared types.
item_key key_from_item(const table_schema& t, const rj::Value& item) {
  item_key out;
  auto one = [&](const key_attribute& k, std::string& bytes) {
    const rj::Value* v = member(item, k.name);
    if (!v) fail(invalid + "Missing the key " + k.name + " in the item");
    if (type_of(*v) != to_string(k.type)) {
      fail(invalid + "Type mismatch for key " + k.name + " expected: " + std::string(to_string(k.type)) +
           " actual: " + std::string(type_of(*v)));
    }
    if (is_empty_key_value(*v)) fail(empty_key_message(k));
    bytes = key_bytes(*v, k.type);
  };
  one(t.hash_key, out.hk);
  if (t.range_key) one(*t.range_key, out.rk);
  return out;
}

// The stored item's JSON, or nullopt.
std::optional<std::string> load(database& db, const table_schema& t, const item_key& k) {
  auto st = prepare(db, "SELECT item FROM store_items WHERE tbl = ?1 AND hk = ?2 AND rk = ?3");
  st->bind_text(1, t.name);
  st->bind_blob(2, k.hk);
  st->bind_blob(3, k.rk);
  switch (st->step()) {
    case statement::step_result::row: return std::string(st->column_text(0));
    case statement::step_result::done: return std::nullopt;
    case statement::step_result::error: fail_internal(st->error_message());
  }
  return std::nullopt;
}

// The key of ITEM in index I; nullopt when the item lacks a key attribute of the index or has it
// with another type (a sparse index leaves such items out).
std::optional<item_key> index_key_of(const secondary_index& i, const rj::Value& item) {
  item_key out;
  for (const key_attribute* k : {&i.hash_key, i.range_key ? &*i.range_key : nullptr}) {
    if (!k) continue;
    const rj::Value* v = member(item, k->name);
    if (!v || type_of(*v) != to_string(k->type)) return std::nullopt;
    (k == &i.hash_key ? out.hk : out.rk) = key_bytes(*v, k->type);
  }
  return out;
}

// DynamoDB refuses to write an item whose attribute keys an index with another type, or is empty.
void check_index_keys(const table_schema& t, const rj::Value& item) {
  for (const secondary_index& i : t.indexes) {
    for (const key_attribute* k : {&i.hash_key, i.range_key ? &*i.range_key : nullptr}) {
      if (!k) continue;
      const rj::Value* v = member(item, k->name);
      if (!v) continue;
      if (type_of(*v) != to_string(k->type)) {
        fail(invalid + "Type mismatch for Index Key " + k->name + " Expected: " + std::string(to_string(k->type)) +
             " Actual: " + std::string(type_of(*v)) + " IndexName: " + i.name);
      }
      if (is_empty_key_value(*v)) {
        fail("One or more parameter values are not valid. A value specified for a secondary index key is not "
             "supported. The AttributeValue for a key attribute cannot contain an empty " +
             std::string(k->type == key_type::B ? "binary" : "string") + " value. IndexName: " + i.name +
             ", IndexKey: " + k->name);
      }
    }
  }
}

void delete_index_rows(database& db, const table_schema& t, const item_key& k) {
  auto st = prepare(db, "DELETE FROM store_index WHERE tbl = ?1 AND hk = ?2 AND rk = ?3");
  st->bind_text(1, t.name);
  st->bind_blob(2, k.hk);
  st->bind_blob(3, k.rk);
  if (st->step() != statement::step_result::done) fail_internal(st->error_message());
}

// One row in store_index for each index of T that has ITEM.
void insert_index_rows(database& db, const table_schema& t, const item_key& k, const rj::Value& item) {
  for (const secondary_index& i : t.indexes) {
    std::optional<item_key> ik = index_key_of(i, item);
    if (!ik) continue;
    auto st = prepare(db, "INSERT INTO store_index (tbl, idx, ihk, irk, hk, rk) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    st->bind_text(1, t.name);
    st->bind_text(2, i.name);
    st->bind_blob(3, ik->hk);
    st->bind_blob(4, ik->rk);
    st->bind_blob(5, k.hk);
    st->bind_blob(6, k.rk);
    if (st->step() != statement::step_result::done) fail_internal(st->error_message());
  }
}

void insert_item_row(database& db, const table_schema& t, const item_key& k, std::string_view json) {
  auto st = prepare(db, "INSERT OR REPLACE INTO store_items (tbl, hk, rk, item) VALUES (?1, ?2, ?3, ?4)");
  st->bind_text(1, t.name);
  st->bind_blob(2, k.hk);
  st->bind_blob(3, k.rk);
  st->bind_text(4, json);
  if (st->step() != statement::step_result::done) fail_internal(st->error_message());
}

// Writes ITEM (checked, with key K) and its rows in the table's indexes.
void store_item(database& db, const table_schema& t, const item_key& k, const rj::Value& item) {
  if (t.indexes.empty()) {
    insert_item_row(db, t, k, to_text(item));
    return;
  }
  check_index_keys(t, item);
  detail::savepoint together(db);
  insert_item_row(db, t, k, to_text(item));
  delete_index_rows(db, t, k);
  insert_index_rows(db, t, k, item);
  together.release();
}

// Deletes the item and returns what it was.
std::optional<std::string> remove_item(database& db, const table_schema& t, const item_key& k) {
  std::optional<detail::savepoint> together;
  if (!t.indexes.empty()) {
    together.emplace(db);
    delete_index_rows(db, t, k);
  }
  auto st = prepare(db, "DELETE FROM store_items WHERE tbl = ?1 AND hk = ?2 AND rk = ?3 RETURNING item");
  st->bind_text(1, t.name);
  st->bind_blob(2, k.hk);
  st->bind_blob(3, k.rk);
  std::optional<std::string> old;
  while (true) {
    auto r = st->step();
    if (r == statement::step_result::row) {
      old = std::string(st->column_text(0));
    } else if (r == statement::step_result::done) {
      break;
    } else {
      fail_internal(st->error_message());
    }
  }
  if (together) together->release();
  return old;
}

// ---- Condition evaluation ----

// An operand's value for a condition: a :value, an attribute of ITEM, or size(attribute) made in
// SCRATCH. nullptr when the attribute is missing (or size does not apply to its type).
const rj::Value* resolve(const operand& o, const rj::Value* item, std::optional<rj::Document>& scratch) {
  if (o.k == operand::kind::value) return o.value;
  const rj::Value* v = item ? find_path(*item, o.path) : nullptr;
  if (o.k != operand::kind::size || !v) return v;
  const std::string_view t = type_of(*v);
  const rj::Value& p = payload_of(*v);
  std::size_t size = 0;
  if (t == "S") {
    size = p.GetStringLength();
  } else if (t == "B") {
    size = decode_base64(view(p)).value_or(std::string()).size();
  } else if (t == "SS" || t == "NS" || t == "BS" || t == "L") {
    size = p.Size();
  } else if (t == "M") {
    size = p.MemberCount();
  } else {
    return nullptr;  // N, BOOL, NULL have no size
  }
  scratch.emplace();
  scratch->SetObject();
  const std::string n = std::to_string(size);
  scratch->AddMember("N", rj::Value(n.c_str(), static_cast<rj::SizeType>(n.size()), scratch->GetAllocator()),
                     scratch->GetAllocator());
  return &*scratch;
}

const rj::Value* resolve(const operand& o, const rj::Value* item) {
  std::optional<rj::Document> unused;
  return o.k == operand::kind::size ? nullptr : resolve(o, item, unused);
}

// contains(A, B): a substring of a string, an element of a set or a list.
bool contains(const rj::Value& a, const rj::Value& b) {
  const std::string_view ta = type_of(a);
  const std::string_view tb = type_of(b);
  const rj::Value& p = payload_of(a);
  if (ta == "S") return tb == "S" && view(p).find(view(payload_of(b))) != std::string_view::npos;
  if (ta == "SS" || ta == "NS" || ta == "BS") {
    if (tb != ta.substr(0, 1)) return false;
    const std::string_view wanted = view(payload_of(b));
    for (const rj::Value& e : p.GetArray()) {
      if (ta != "NS" && view(e) == wanted) return true;
      if (ta == "NS") {
        auto x = parse_decimal(view(e));
        auto y = parse_decimal(wanted);
        if (x && y && *x == *y) return true;
      }
    }
    return false;
  }
  if (ta == "L") {
    for (const rj::Value& e : p.GetArray()) {
      if (values_equal(e, b)) return true;
    }
  }
  return false;
}

bool evaluate(const condition& c, const rj::Value* item) {
  switch (c.k) {
    case condition::kind::exists: return resolve(c.lhs, item) != nullptr;
    case condition::kind::not_exists: return resolve(c.lhs, item) == nullptr;
    case condition::kind::and_: return evaluate(*c.a, item) && evaluate(*c.b, item);
    case condition::kind::or_: return evaluate(*c.a, item) || evaluate(*c.b, item);
    case condition::kind::not_: return !evaluate(*c.a, item);
    case condition::kind::begins_with: {
      const rj::Value* a = resolve(c.lhs, item);
      const rj::Value* b = resolve(c.rhs, item);
      if (!a || !b || type_of(*a) != type_of(*b)) return false;
      std::string_view t = type_of(*a);
      if (t == "S") return view(payload_of(*a)).substr(0, payload_of(*b).GetStringLength()) == view(payload_of(*b));
      if (t == "B") {
        std::string x = key_bytes(*a, key_type::B), y = key_bytes(*b, key_type::B);
        return x.compare(0, y.size(), y) == 0;
      }
      return false;
    }
    case condition::kind::contains: {
      const rj::Value* a = resolve(c.lhs, item);
      const rj::Value* b = resolve(c.rhs, item);
      return a && b && contains(*a, *b);
    }
    case condition::kind::attribute_type: {
      const rj::Value* a = resolve(c.lhs, item);
      return a && type_of(*a) == view(payload_of(*c.rhs.value));
    }
    case condition::kind::compare: {
      std::optional<rj::Document> sa, sb;
      const rj::Value* a = resolve(c.lhs, item, sa);
      const rj::Value* b = resolve(c.rhs, item, sb);
      if (c.op == "<>") return !a || !b || !values_equal(*a, *b);
      if (!a || !b) return false;
      if (c.op == "=") return values_equal(*a, *b);
      std::optional<int> order = compare_values(*a, *b);
      if (!order) return false;
      if (c.op == "<") return *order < 0;
      if (c.op == "<=") return *order <= 0;
      if (c.op == ">") return *order > 0;
      return *order >= 0;
    }
    case condition::kind::between: {
      std::optional<rj::Document> sx, slo, shi;
      const rj::Value* x = resolve(c.lhs, item, sx);
      const rj::Value* lo = resolve(c.rhs, item, slo);
      const rj::Value* hi = resolve(c.more[0], item, shi);
      if (!x || !lo || !hi) return false;
      const std::optional<int> above = compare_values(*x, *lo);
      const std::optional<int> below = compare_values(*x, *hi);
      return above && below && *above >= 0 && *below <= 0;
    }
    case condition::kind::in: {
      std::optional<rj::Document> sx;
      const rj::Value* x = resolve(c.lhs, item, sx);
      if (!x) return false;
      for (const operand& candidate : c.more) {
        std::optional<rj::Document> sc;
        const rj::Value* v = resolve(candidate, item, sc);
        if (v && values_equal(*x, *v)) return true;
      }
      return false;
    }
  }
  return false;
}

std::unique_ptr<condition> parse_condition(request_context& ctx, const rj::Value* text, std::string_view what) {
  if (!text) return nullptr;
  auto r = parse_condition_expression(view(*text), *ctx.attrs, what);
  if (!r) fail(r.error());
  return *std::move(r);
}

std::vector<document_path> parse_projection(request_context& ctx, const rj::Value* text) {
  if (!text) return {};
  auto r = parse_projection_expression(view(*text), *ctx.attrs);
  if (!r) fail(r.error());
  return *std::move(r);
}

// ITEM (its strings in ALLOC's memory) reduced to the PATHS (all of it when PATHS is empty).
rj::Value project(rj::Value item, const std::vector<document_path>& paths, rj::Document::AllocatorType& alloc) {
  return projection(paths).apply(std::move(item), alloc);
}

std::string_view return_values(const rj::Value& request, bool update) {
  const rj::Value* rv = optional_string(request, "ReturnValues");
  if (!rv) return "NONE";
  std::string_view v = view(*rv);
  if (update) {
    if (v == "NONE" || v == "ALL_OLD" || v == "UPDATED_OLD" || v == "ALL_NEW" || v == "UPDATED_NEW") return v;
    fail("1 validation error detected: Value '" + std::string(v) +
         "' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: "
         "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]");
  }
  if (v == "NONE" || v == "ALL_OLD") return v;
  fail("ReturnValues can only be ALL_OLD or NONE");
}

// ReturnValuesOnConditionCheckFailure: true for ALL_OLD.
bool old_item_on_condition_failure(const rj::Value& request) {
  const rj::Value* v = optional_string(request, "ReturnValuesOnConditionCheckFailure");
  if (!v || view(*v) == "NONE") return false;
  if (view(*v) == "ALL_OLD") return true;
  fail("1 validation error detected: Value '" + std::string(view(*v)) +
       "' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value "
       "set: [ALL_OLD, NONE]");
}

// An update whose path goes through an attribute that is missing or neither a map nor a list.
[[noreturn]] void invalid_document_path() {
  fail("The document path provided in the update expression is invalid for update");
}

// A condition that did not hold; with ReturnValuesOnConditionCheckFailure ALL_OLD the error
// carries the item as it was (when there was one), as DynamoDB's does.
[[noreturn]] void condition_failed(bool with_old_item, const rj::Value* old_item) {
  failure f{dynamo_error::conditional_check_failed, "The conditional request failed", nullptr};
  if (with_old_item && old_item != nullptr) {
    f.details = std::make_shared<rj::Document>();
    f.details->SetObject();
    f.details->AddMember("Item", rj::Value(*old_item, f.details->GetAllocator()), f.details->GetAllocator());
  }
  throw f;
}

std::optional<long long> read_limit(const rj::Value& request) {
  const rj::Value* v = member(request, "Limit");
  if (!v) return std::nullopt;
  if (!v->IsInt64()) fail("Limit must be an integer");
  if (v->GetInt64() < 1) {
    fail("1 validation error detected: Value '" + std::to_string(v->GetInt64()) +
         "' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1");
  }
  return v->GetInt64();
}

void set_attributes(dynamo_result& r, rj::Value attributes) {
  if (attributes.IsObject() && attributes.MemberCount() > 0) {
    r.body().AddMember("Attributes", attributes, r.body().GetAllocator());
  }
}


// ---- UpdateItem arithmetic ----

decimal number_of(const rj::Value& v) { return *parse_decimal(view(payload_of(v))); }

rj::Value number_value(const decimal& d, rj::Document::AllocatorType& alloc) {
  rj::Value out(rj::kObjectType);
  std::string text = to_string(d);
  out.AddMember("N", rj::Value(text.c_str(), static_cast<rj::SizeType>(text.size()), alloc), alloc);
  return out;
}

// Set elements: numbers by value, strings and binaries by their text.
bool same_element(std::string_view set_type, const rj::Value& a, const rj::Value& b) {
  if (set_type != "NS") return view(a) == view(b);
  auto x = parse_decimal(view(a));
  auto y = parse_decimal(view(b));
  if (x && y) return *x == *y;
  return !x && !y && x.error() == y.error();
}

decimal checked_sum(const decimal& a, const decimal& b) {
  auto r = add(a, b);
  if (!r) fail(r.error());
  return *r;
}

}  // namespace

// Unlike the requests, which throw this file's failure, open() returns a status: its errors are
// made with apigw::fail (the unqualified fail here is the throwing one).
status item_tables::open(const std::vector<table_schema>& declared) {
  auto created = db_.exec(
      "CREATE TABLE IF NOT EXISTS store_tables ("
      "  name TEXT PRIMARY KEY NOT NULL,"
      "  definition TEXT NOT NULL);"  // CreateTable JSON: TableName, KeySchema, AttributeDefinitions
      "CREATE TABLE IF NOT EXISTS store_items ("
      "  tbl TEXT NOT NULL,"
      "  hk BLOB NOT NULL,"           // hash key bytes, ordered like DynamoDB's keys
      "  rk BLOB NOT NULL,"           // range key bytes; X'' without a range key
      "  item TEXT NOT NULL,"         // the item in DynamoDB JSON
      "  PRIMARY KEY (tbl, hk, rk)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS store_index ("  // a row per item in each secondary index that has it
      "  tbl TEXT NOT NULL,"
      "  idx TEXT NOT NULL,"          // the index's name
      "  ihk BLOB NOT NULL,"          // the index's hash key bytes
      "  irk BLOB NOT NULL,"          // its range key bytes; X'' without one
      "  hk BLOB NOT NULL,"           // the item's key in store_items
      "  rk BLOB NOT NULL,"
      "  PRIMARY KEY (tbl, idx, ihk, irk, hk, rk)) WITHOUT ROWID;"
      "CREATE INDEX IF NOT EXISTS store_index_by_item ON store_index (tbl, hk, rk);");
  if (!created) return apigw::fail("cannot create the store's tables in " + db_.path() + ": " + created.error());
  tables_.clear();
  details_.clear();
  {
    auto r = db_.prepare("SELECT name, definition FROM store_tables ORDER BY name");
    if (!r) return apigw::fail("cannot read the store's tables: " + r.error());
    auto& st = *r;
    while (true) {
      auto step = st->step();
      if (step == statement::step_result::done) break;
      if (step == statement::step_result::error) {
        return apigw::fail("cannot read the store's tables: " + st->error_message());
      }
      std::string name(st->column_text(0));
      rj::Document d;
      std::string_view def = st->column_text(1);
      d.Parse(def.data(), def.size());
      auto parsed = d.HasParseError() ? result<table_schema>(apigw::fail("not JSON"))
                                      : parse_table_schema(d, "store_tables." + name);
      if (!parsed) {
        return apigw::fail(db_.path() + ": the definition of table " + name + " in store_tables is damaged: " +
                           parsed.error());
      }
      add_table(*parsed, std::string(def));
    }
  }
  std::set<std::string> seen;
  for (const table_schema& t : declared) {
    if (!seen.insert(t.name).second) {
      return apigw::fail("table " + t.name + " is declared twice; table names must be unique");
    }
    auto it = tables_.find(t.name);
    if (it == tables_.end()) continue;
    if (!it->second.same_keys(t)) {
      return apigw::fail("table " + t.name + ": the store " + db_.path() + " holds it with the key schema [" +
                         describe_keys(it->second) + "] but the configuration declares [" + describe_keys(t) +
                         "]; its items would not match the new keys. Declare the old key schema, give the table "
                         "another name, or use another store file (or delete this one to start empty)");
    }
    // The configuration's indexes win over the file's: its items are indexed anew.
    if (it->second.indexes != t.indexes) {
      const std::string definition = t.definition.empty() ? to_create_table_json(t) : t.definition;
      auto reindexed = guarded([&] {
        detail::savepoint together(db_);
        write_definition(t.name, definition);
        index_items(t);
        together.release();
        return dynamo_result();
      });
      if (!reindexed.ok()) return apigw::fail("table " + t.name + ": cannot index its items: " + reindexed.error().message);
      add_table(t, definition);
    }
  }
  for (const table_schema& t : declared) {
    if (tables_.count(t.name)) continue;
    auto r = db_.prepare("INSERT INTO store_tables (name, definition) VALUES (?1, ?2)");
    if (!r) return apigw::fail("cannot record table " + t.name + ": " + r.error());
    auto& st = *r;
    st->bind_text(1, t.name);
    const std::string definition = t.definition.empty() ? to_create_table_json(t) : t.definition;
    st->bind_text(2, definition);
    if (st->step() != statement::step_result::done) {
      return apigw::fail("cannot record table " + t.name + ": " + st->error_message());
    }
    add_table(t, definition);
  }
  return {};
}

void item_tables::index_items(const table_schema& t) {
  auto clear = prepare(db_, "DELETE FROM store_index WHERE tbl = ?1");
  clear->bind_text(1, t.name);
  if (clear->step() != statement::step_result::done) fail_internal(clear->error_message());
  if (t.indexes.empty()) return;
  auto st = prepare(db_, "SELECT hk, rk, item FROM store_items WHERE tbl = ?1");
  st->bind_text(1, t.name);
  while (true) {
    auto step = st->step();
    if (step == statement::step_result::done) break;
    if (step == statement::step_result::error) fail_internal(st->error_message());
    const item_key k{std::string(st->column_blob(0)), std::string(st->column_blob(1))};
    rj::Document scratch;  // one item's memory at a time
    const rj::Value item = parse_item(st->column_text(2), scratch.GetAllocator());
    insert_index_rows(db_, t, k, item);
  }
}

std::vector<table_schema> item_tables::tables() const {
  std::vector<table_schema> out;
  for (const auto& [name, t] : tables_) out.push_back(t);
  return out;
}

const table_schema* item_tables::find(std::string_view name) const {
  auto it = tables_.find(name);
  return it == tables_.end() ? nullptr : &it->second;
}

dynamo_result item_tables::put_item(const rj::Value& request) {
  return guarded([&] {
    request_context ctx(tables_, request);
    const rj::Value& item = required(request, "Item", "item");
    check_item(item);
    item_key key = key_from_item(*ctx.table, item);
    auto cond = parse_condition(ctx, ctx.string_member("ConditionExpression"), "ConditionExpression");
    ctx.check_unused();
    std::string_view rv = return_values(request, false);
    const bool old_on_failure = old_item_on_condition_failure(request);

    dynamo_result r;
    auto& alloc = r.body().GetAllocator();
    // The hot path ($connect's put) is one INSERT; the old item is read only when needed.
    if (cond || rv == "ALL_OLD") {
      std::optional<std::string> old = load(db_, *ctx.table, key);
      rj::Value old_item;
      if (old) old_item = parse_item(*old, alloc);
      if (cond && !evaluate(*cond, old ? &old_item : nullptr)) condition_failed(old_on_failure, old ? &old_item : nullptr);
      if (rv == "ALL_OLD" && old) set_attributes(r, std::move(old_item));
    }
    store_item(db_, *ctx.table, key, item);
    return r;
  });
}

dynamo_result item_tables::get_item(const rj::Value& request) {
  return guarded([&] {
    request_context ctx(tables_, request);
    item_key key = key_from_key(*ctx.table, required(request, "Key", "key"));
    std::vector<document_path> projection = parse_projection(ctx, ctx.string_member("ProjectionExpression"));
    ctx.check_unused();
    dynamo_result r;
    if (std::optional<std::string> text = load(db_, *ctx.table, key)) {
      auto& alloc = r.body().GetAllocator();
      r.body().AddMember("Item", project(parse_item(*text, alloc), projection, alloc), alloc);
    }
    return r;
  });
}

dynamo_result item_tables::delete_item(const rj::Value& request) {
  return guarded([&] {
    request_context ctx(tables_, request);
    item_key key = key_from_key(*ctx.table, required(request, "Key", "key"));
    auto cond = parse_condition(ctx, ctx.string_member("ConditionExpression"), "ConditionExpression");
    ctx.check_unused();
    std::string_view rv = return_values(request, false);
    const bool old_on_failure = old_item_on_condition_failure(request);
    dynamo_result r;
    auto& alloc = r.body().GetAllocator();
    if (cond) {
      std::optional<std::string> old = load(db_, *ctx.table, key);
      rj::Value old_item;
      if (old) old_item = parse_item(*old, alloc);
      if (!evaluate(*cond, old ? &old_item : nullptr)) condition_failed(old_on_failure, old ? &old_item : nullptr);
    }
    std::optional<std::string> old = remove_item(db_, *ctx.table, key);
    if (rv == "ALL_OLD" && old) set_attributes(r, parse_item(*old, alloc));
    return r;
  });
}

namespace {

// A batch's RequestItems: a non-empty object of table names.
const rj::Value& request_items(const rj::Value& request) {
  if (!request.IsObject()) fail("The request must be a JSON object");
  const rj::Value& items = required(request, "RequestItems", "requestItems");
  if (!items.IsObject() || items.MemberCount() == 0) {
    fail("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have "
         "length greater than or equal to 1");
  }
  return items;
}

// The one-table request a batch's entry for table NAME stands for: its name and the expression
// members of ENTRY (a KeysAndAttributes), so that the single-item rules check them.
rj::Document single_request(std::string_view name, const rj::Value* entry) {
  rj::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  d.AddMember("TableName", rj::Value(name.data(), static_cast<rj::SizeType>(name.size()), a), a);
  if (entry != nullptr) {
    for (auto m = entry->MemberBegin(); m != entry->MemberEnd(); ++m) {
      if (view(m->name) == "Keys") continue;
      d.AddMember(rj::Value(m->name, a), rj::Value(m->value, a), a);
    }
  }
  return d;
}

constexpr std::size_t kMaxBatchWrites = 25;
constexpr std::size_t kMaxBatchKeys = 100;
constexpr std::size_t kMaxBatchGetBytes = 16 * 1024 * 1024;

}  // namespace

dynamo_result item_tables::batch_write_item(const rj::Value& request) {
  return guarded([&] {
    const rj::Value& items = request_items(request);
    struct write {
      const table_schema* table;
      item_key key;
      const rj::Value* item;  // null: a delete
    };
    std::vector<write> writes;
    std::set<std::tuple<std::string_view, std::string, std::string>> seen;
    for (auto t = items.MemberBegin(); t != items.MemberEnd(); ++t) {
      const rj::Document single = single_request(view(t->name), nullptr);
      request_context ctx(tables_, single);
      if (!t->value.IsArray() || t->value.Empty()) {
        fail("1 validation error detected: Value at 'requestItems." + std::string(view(t->name)) +
             "' failed to satisfy constraint: Member must have length greater than or equal to 1");
      }
      for (const rj::Value& w : t->value.GetArray()) {
        const rj::Value* put = w.IsObject() ? member(w, "PutRequest") : nullptr;
        const rj::Value* del = w.IsObject() ? member(w, "DeleteRequest") : nullptr;
        if (!w.IsObject() || (put == nullptr) == (del == nullptr) || w.MemberCount() != 1) {
          fail("Supplied WriteRequest must have exactly one of PutRequest or DeleteRequest, in table " +
               std::string(view(t->name)));
        }
        if (writes.size() == kMaxBatchWrites) fail("Too many items requested for the BatchWriteItem call");
        write one{ctx.table, {}, nullptr};
        if (put != nullptr) {
          one.item = &required(*put, "Item", "item");
          check_item(*one.item);
          one.key = key_from_item(*ctx.table, *one.item);
        } else {
          one.key = key_from_key(*ctx.table, required(*del, "Key", "key"));
        }
        if (!seen.emplace(ctx.table->name, one.key.hk, one.key.rk).second) {
          fail("Provided list of item keys contains duplicates");
        }
        writes.push_back(std::move(one));
      }
    }
    detail::write_transaction transaction(db_);
    for (const write& w : writes) {
      if (w.item != nullptr) {
        store_item(db_, *w.table, w.key, *w.item);
      } else {
        remove_item(db_, *w.table, w.key);
      }
    }
    transaction.commit();
    dynamo_result r;
    r.body().AddMember("UnprocessedItems", rj::Value(rj::kObjectType), r.body().GetAllocator());
    return r;
  });
}

dynamo_result item_tables::batch_get_item(const rj::Value& request) {
  return guarded([&] {
    const rj::Value& items = request_items(request);
    dynamo_result r;
    auto& alloc = r.body().GetAllocator();
    rj::Value responses(rj::kObjectType);
    rj::Value unprocessed(rj::kObjectType);
    std::size_t keys = 0;
    std::size_t bytes = 0;
    for (auto t = items.MemberBegin(); t != items.MemberEnd(); ++t) {
      const std::string table_name(view(t->name));
      if (!t->value.IsObject()) fail("KeysAndAttributes of table " + table_name + " must be an object");
      if (member(t->value, "AttributesToGet")) {
        fail("the legacy parameter AttributesToGet is not supported by the emulator; use ProjectionExpression "
             "instead");
      }
      const rj::Document single = single_request(table_name, &t->value);
      request_context ctx(tables_, single);
      std::vector<document_path> projection = parse_projection(ctx, ctx.string_member("ProjectionExpression"));
      ctx.check_unused();
      if (const rj::Value* consistent = member(t->value, "ConsistentRead"); consistent && !consistent->IsBool()) {
        fail("ConsistentRead must be a boolean");
      }
      const rj::Value& list = required(t->value, "Keys", "requestItems." + table_name + ".member.keys");
      if (!list.IsArray() || list.Empty()) {
        fail("1 validation error detected: Value at 'requestItems." + table_name +
             ".member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1");
      }
      std::set<std::pair<std::string, std::string>> seen;
      std::vector<item_key> table_keys;
      for (const rj::Value& k : list.GetArray()) {
        if (++keys > kMaxBatchKeys) fail("Too many items requested for the BatchGetItem call");
        item_key key = key_from_key(*ctx.table, k);
        if (!seen.emplace(key.hk, key.rk).second) fail("Provided list of item keys contains duplicates");
        table_keys.push_back(std::move(key));
      }
      rj::Value found(rj::kArrayType);
      rj::Value left(rj::kArrayType);
      for (std::size_t i = 0; i < table_keys.size(); ++i) {
        if (bytes > kMaxBatchGetBytes) {
          left.PushBack(rj::Value(list[static_cast<rj::SizeType>(i)], alloc), alloc);
          continue;
        }
        if (std::optional<std::string> text = load(db_, *ctx.table, table_keys[i])) {
          bytes += text->size();
          found.PushBack(project(parse_item(*text, alloc), projection, alloc), alloc);
        }
      }
      responses.AddMember(rj::Value(table_name.c_str(), alloc), found, alloc);
      if (!left.Empty()) {
        rj::Value rest(t->value, alloc);
        rest["Keys"] = left;
        unprocessed.AddMember(rj::Value(table_name.c_str(), alloc), rest, alloc);
      }
    }
    r.body().AddMember("Responses", responses, alloc);
    r.body().AddMember("UnprocessedKeys", unprocessed, alloc);
    return r;
  });
}

namespace {

constexpr std::size_t kMaxTransactItems = 100;
constexpr auto kTokenLifetime = std::chrono::minutes(10);

// A transaction's TransactItems: 1 to 100 entries, each an object with exactly one action of
// KINDS, whose request must be an object. Returns the (kind, request) pairs.
std::vector<std::pair<std::string_view, const rj::Value*>> transact_items(const rj::Value& request,
                                                                          std::initializer_list<std::string_view> kinds,
                                                                          std::string_view refusal) {
  if (!request.IsObject()) fail("The request must be a JSON object");
  const rj::Value& items = required(request, "TransactItems", "transactItems");
  if (!items.IsArray() || items.Empty()) {
    fail("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have "
         "length greater than or equal to 1");
  }
  if (items.Size() > kMaxTransactItems) {
    fail("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have "
         "length less than or equal to 100");
  }
  std::vector<std::pair<std::string_view, const rj::Value*>> out;
  for (const rj::Value& entry : items.GetArray()) {
    if (!entry.IsObject() || entry.MemberCount() != 1) fail(std::string(refusal));
    const auto& action = *entry.MemberBegin();
    const std::string_view kind = view(action.name);
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end() || !action.value.IsObject()) {
      fail(std::string(refusal));
    }
    out.emplace_back(kind, &action.value);
  }
  return out;
}

// The item an action is about, so that no transaction touches one item twice.
std::tuple<std::string, std::string, std::string> item_of(const std::map<std::string, table_schema, std::less<>>& tables,
                                                          std::string_view kind, const rj::Value& action) {
  request_context ctx(tables, action);
  item_key key;
  if (kind == "Put") {
    const rj::Value& item = required(action, "Item", "item");
    check_item(item);
    key = key_from_item(*ctx.table, item);
  } else {
    key = key_from_key(*ctx.table, required(action, "Key", "key"));
  }
  return {ctx.table->name, std::move(key.hk), std::move(key.rk)};
}

const std::string kMultipleOperations = "Transaction request cannot include multiple operations on one item";

}  // namespace

dynamo_result item_tables::condition_check(const rj::Value& action) {
  return guarded([&] {
    request_context ctx(tables_, action);
    item_key key = key_from_key(*ctx.table, required(action, "Key", "key"));
    const rj::Value& text = required(action, "ConditionExpression", "conditionExpression");
    auto cond = parse_condition(ctx, &text, "ConditionExpression");
    ctx.check_unused();
    const bool old_on_failure = old_item_on_condition_failure(action);
    dynamo_result r;
    auto& alloc = r.body().GetAllocator();
    std::optional<std::string> old = load(db_, *ctx.table, key);
    rj::Value old_item;
    if (old) old_item = parse_item(*old, alloc);
    if (!evaluate(*cond, old ? &old_item : nullptr)) condition_failed(old_on_failure, old ? &old_item : nullptr);
    return r;
  });
}

dynamo_result item_tables::transact_write_items(const rj::Value& request) {
  return guarded([&] {
    const auto actions = transact_items(request, {"ConditionCheck", "Put", "Update", "Delete"},
                                        "TransactItems can only contain one of ConditionCheck, Put, Update or Delete");
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    for (const auto& [kind, action] : actions) {
      if (!seen.insert(item_of(tables_, kind, *action)).second) fail(kMultipleOperations);
    }

    // The same token within its lifetime: the same request answers again, unwritten.
    const rj::Value* token = optional_string(request, "ClientRequestToken");
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(tokens_, [&](const auto& t) { return now - t.second.at > kTokenLifetime; });
    std::string request_text;
    if (token != nullptr) {
      if (token->GetStringLength() < 1 || token->GetStringLength() > 36) {
        fail("1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must "
             "have length between 1 and 36");
      }
      request_text = to_text(request);
      if (auto used = tokens_.find(view(*token)); used != tokens_.end()) {
        if (used->second.request != request_text) {
          throw failure{dynamo_error::idempotent_parameter_mismatch,
                        "The request uses the same client token as a previous, but non-identical request."};
        }
        return dynamo_result();
      }
    }

    // Every action runs in one SQLite transaction; a failed condition marks its action and the
    // rest still run, so that every action gets its reason; then all is rolled back.
    detail::write_transaction transaction(db_);
    std::vector<dynamo_result> outcomes;
    bool canceled = false;
    for (const auto& [kind, action] : actions) {
      dynamo_result r = kind == "Put"      ? put_item(*action)
                        : kind == "Update" ? update_item(*action)
                        : kind == "Delete" ? delete_item(*action)
                                           : condition_check(*action);
      if (!r.ok() && r.error().type != dynamo_error::conditional_check_failed) {
        throw failure{r.error().type, r.error().message};
      }
      canceled = canceled || !r.ok();
      outcomes.push_back(std::move(r));
    }
    if (canceled) {
      failure f{dynamo_error::transaction_canceled, "Transaction cancelled, please refer cancellation reasons for "
                                                    "specific reasons [", std::make_shared<rj::Document>()};
      f.details->SetObject();
      auto& alloc = f.details->GetAllocator();
      rj::Value reasons(rj::kArrayType);
      for (std::size_t i = 0; i < outcomes.size(); ++i) {
        const bool failed = !outcomes[i].ok();
        f.message += (i ? ", " : "") + std::string(failed ? "ConditionalCheckFailed" : "None");
        rj::Value reason(rj::kObjectType);
        reason.AddMember("Code", rj::StringRef(failed ? "ConditionalCheckFailed" : "None"), alloc);
        if (failed) {
          reason.AddMember("Message", "The conditional request failed", alloc);
          if (auto item = outcomes[i].body().FindMember("Item"); item != outcomes[i].body().MemberEnd()) {
            reason.AddMember("Item", rj::Value(item->value, alloc), alloc);
          }
        }
        reasons.PushBack(reason, alloc);
      }
      f.message += "]";
      f.details->AddMember("CancellationReasons", reasons, alloc);
      throw f;
    }
    transaction.commit();
    if (token != nullptr) tokens_.insert_or_assign(std::string(view(*token)), token_use{std::move(request_text), now});
    return dynamo_result();
  });
}

dynamo_result item_tables::transact_get_items(const rj::Value& request) {
  return guarded([&] {
    const auto actions = transact_items(request, {"Get"}, "TransactItems can only contain Get");
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    for (const auto& [kind, action] : actions) {
      if (!seen.insert(item_of(tables_, kind, *action)).second) fail(kMultipleOperations);
    }
    dynamo_result r;
    auto& alloc = r.body().GetAllocator();
    rj::Value responses(rj::kArrayType);
    for (const auto& [kind, action] : actions) {
      dynamo_result one = get_item(*action);
      if (!one.ok()) throw failure{one.error().type, one.error().message};
      responses.PushBack(rj::Value(one.body(), alloc), alloc);
    }
    r.body().AddMember("Responses", responses, alloc);
    return r;
  });
}

dynamo_result item_tables::update_item(const rj::Value& request) {
  return guarded([&] {
    request_context ctx(tables_, request);
    const table_schema& t = *ctx.table;
    const rj::Value& key_json = required(request, "Key", "key");
    item_key key = key_from_key(t, key_json);
    update_expression update;
    if (const rj::Value* text = ctx.string_member("UpdateExpression")) {
      auto u = parse_update_expression(view(*text), *ctx.attrs);
      if (!u) fail(u.error());
      update = *std::move(u);
    }
    auto cond = parse_condition(ctx, ctx.string_member("ConditionExpression"), "ConditionExpression");
    ctx.check_unused();
    std::string_view rv = return_values(request, true);
    const bool old_on_failure = old_item_on_condition_failure(request);

    std::vector<document_path> touched;
    for (const set_action& a : update.set) touched.push_back(a.path);
    for (const document_path& p : update.remove) touched.push_back(p);
    for (const auto& [p, v] : update.add) touched.push_back(p);
    for (const auto& [p, v] : update.del) touched.push_back(p);
    for (const document_path& p : touched) {
      if (p.top() == t.hash_key.name || (t.range_key && p.top() == t.range_key->name)) {
        fail(invalid + "Cannot update attribute " + p.top() + ". This attribute is part of the key");
      }
    }

    dynamo_result r;
    auto& alloc = r.body().GetAllocator();
    std::optional<std::string> old_text = load(db_, t, key);
    rj::Value old_item(rj::kObjectType);
    if (old_text) old_item = parse_item(*old_text, alloc);
    const rj::Value* old_ptr = old_text ? &old_item : nullptr;
    if (cond && !evaluate(*cond, old_ptr)) condition_failed(old_on_failure, old_ptr);

    // Every operand reads the item as it was before the update, as in DynamoDB.
    rj::Value item(old_item, alloc);
    if (!old_text) {
      for (auto m = key_json.MemberBegin(); m != key_json.MemberEnd(); ++m) {
        item.AddMember(rj::Value(m->name, alloc), rj::Value(m->value, alloc), alloc);
      }
    }
    auto assign = [&](const document_path& path, rj::Value value) {
      if (!assign_path(item, path, std::move(value), alloc)) invalid_document_path();
    };
    // A SET operand's value, made in ALLOC (list_append makes a new list).
    std::function<rj::Value(const operand&)> eval = [&](const operand& o) -> rj::Value {
      if (o.k == operand::kind::value) return rj::Value(*o.value, alloc);
      if (o.k == operand::kind::list_append) {
        rj::Value first = eval(*o.fallback);
        rj::Value second = eval(*o.second);
        for (const rj::Value* v : {&first, &second}) {
          if (type_of(*v) != "L") {
            fail("Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
                 "function: list_append, operand type: " + std::string(type_of(*v)));
          }
        }
        rj::Value& joined = first.MemberBegin()->value;
        for (rj::Value& e : second.MemberBegin()->value.GetArray()) joined.PushBack(e, alloc);  // moves
        return first;
      }
      const rj::Value* v = old_ptr ? find_path(*old_ptr, o.path) : nullptr;
      if (o.k == operand::kind::if_not_exists && !v) return eval(*o.fallback);
      if (!v) fail("The provided expression refers to an attribute that does not exist in the item");
      return rj::Value(*v, alloc);
    };
    for (const set_action& a : update.set) {
      rj::Value left = eval(a.left);
      if (!a.right) {
        assign(a.path, std::move(left));
        continue;
      }
      rj::Value right = eval(*a.right);
      for (const rj::Value* v : {&left, &right}) {
        if (type_of(*v) != "N") {
          fail("Invalid UpdateExpression: Incorrect operand type for operator or function; operator or "
               "function: " + std::string(1, a.op) + ", operand type: " + std::string(type_of(*v)));
        }
      }
      decimal rhs = number_of(right);
      assign(a.path, number_value(checked_sum(number_of(left), a.op == '-' ? negate(rhs) : rhs), alloc));
    }
    order_for_removal(update.remove);
    for (const document_path& p : update.remove) {
      if (!erase_path(item, p)) invalid_document_path();
    }
    for (const auto& [p, v] : update.add) {
      std::string_view vt = type_of(*v);
      if (vt != "N" && vt != "SS" && vt != "NS" && vt != "BS") {
        fail("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, "
             "operand type: " + std::string(vt == "S" ? "STRING" : vt == "B" ? "BINARY" : vt == "BOOL" ? "BOOLEAN"
                                             : vt == "L" ? "LIST" : vt == "M" ? "MAP" : "NULL"));
      }
      const rj::Value* existing = find_path(item, p);
      if (!existing) {
        assign(p, rj::Value(*v, alloc));
        continue;
      }
      if (type_of(*existing) != vt) fail("An operand in the update expression has an incorrect data type");
      if (vt == "N") {
        assign(p, number_value(checked_sum(number_of(*existing), number_of(*v)), alloc));
        continue;
      }
      rj::Value merged(*existing, alloc);
      rj::Value& elements = merged.MemberBegin()->value;
      for (const rj::Value& e : payload_of(*v).GetArray()) {
        bool present = std::any_of(elements.Begin(), elements.End(),
                                   [&](const rj::Value& x) { return same_element(vt, x, e); });
        if (!present) elements.PushBack(rj::Value(e, alloc), alloc);
      }
      assign(p, std::move(merged));
    }
    for (const auto& [p, v] : update.del) {
      std::string_view vt = type_of(*v);
      if (vt != "SS" && vt != "NS" && vt != "BS") {
        fail("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, "
             "operand type: " + std::string(vt));
      }
      const rj::Value* existing = find_path(item, p);
      if (!existing) continue;
      if (type_of(*existing) != vt) fail("An operand in the update expression has an incorrect data type");
      rj::Value kept(rj::kArrayType);
      for (const rj::Value& x : payload_of(*existing).GetArray()) {
        bool removed = std::any_of(payload_of(*v).Begin(), payload_of(*v).End(),
                                   [&](const rj::Value& e) { return same_element(vt, x, e); });
        if (!removed) kept.PushBack(rj::Value(x, alloc), alloc);
      }
      if (kept.Empty()) {
        erase_path(item, p);
      } else {
        rj::Value set(rj::kObjectType);
        set.AddMember(rj::Value(vt.data(), static_cast<rj::SizeType>(vt.size()), alloc), kept, alloc);
        assign(p, std::move(set));
      }
    }
    if (item_size(item) > max_item_bytes) fail("Item size to update has exceeded the maximum allowed size");
    store_item(db_, t, key, item);

    rj::Value attributes(rj::kObjectType);
    if (rv == "ALL_OLD" && old_text) {
      attributes.CopyFrom(old_item, alloc);
    } else if (rv == "ALL_NEW") {
      attributes.CopyFrom(item, alloc);
    } else if (rv == "UPDATED_OLD" || rv == "UPDATED_NEW") {
      attributes = project_paths(rv == "UPDATED_OLD" ? old_item : item, touched, alloc);
    }
    set_attributes(r, std::move(attributes));
    return r;
  });
}

namespace {

// What a Query or Scan reads: the table, or one of its secondary indexes (IndexName).
struct read_target {
  const table_schema* table = nullptr;
  const secondary_index* index = nullptr;

  const key_attribute& hash_key() const { return index ? index->hash_key : table->hash_key; }
  const std::optional<key_attribute>& range_key() const { return index ? index->range_key : table->range_key; }
};

read_target target_of(const request_context& ctx, const rj::Value& request) {
  read_target target{ctx.table, nullptr};
  if (const rj::Value* name = optional_string(request, "IndexName")) {
    target.index = ctx.table->find_index(view(*name));
    if (!target.index) fail("The table does not have the specified index: " + std::string(view(*name)));
    const rj::Value* consistent = member(request, "ConsistentRead");
    if (target.index->global && consistent && consistent->IsBool() && consistent->GetBool()) {
      fail("Consistent reads are not supported on global secondary indexes");
    }
  }
  return target;
}

// Query's and Scan's shared loop: runs ST (its columns: the item, its hash key bytes), filters
// and projects, pages.
struct page_options {
  std::optional<long long> limit;
  std::vector<document_path> projection;
  const condition* filter = nullptr;
  bool count_only = false;
  // Each item reduced to this index's projection: a global index holds only those attributes
  // (the filter sees no others); a local one fetches the rest from the table when asked for them.
  const secondary_index* project_to = nullptr;
  // Parallel Scan: only the items whose hash key falls in SEGMENT of TOTAL_SEGMENTS.
  std::uint32_t segment = 0;
  std::uint32_t total_segments = 1;
};

// ITEM reduced to what index I of table T holds.
rj::Value index_projection(rj::Value item, const table_schema& t, const secondary_index& i,
                           rj::Document::AllocatorType& alloc) {
  if (i.projection == projection_type::all) return item;
  rj::Value out(rj::kObjectType);
  for (auto m = item.MemberBegin(); m != item.MemberEnd(); ++m) {
    const std::string_view name = view(m->name);
    const bool keep = name == t.hash_key.name || (t.range_key && name == t.range_key->name) ||
                      name == i.hash_key.name || (i.range_key && name == i.range_key->name) ||
                      std::find(i.non_key_attributes.begin(), i.non_key_attributes.end(), name) !=
                          i.non_key_attributes.end();
    if (keep) out.AddMember(m->name, m->value, alloc);  // moves
  }
  return out;
}

// The LastEvaluatedKey of ITEM: the table's key attributes, and the index's when reading one.
rj::Value key_of(const read_target& target, const rj::Value& item, rj::Document::AllocatorType& alloc) {
  const table_schema& t = *target.table;
  const secondary_index* i = target.index;
  rj::Value out(rj::kObjectType);
  for (const key_attribute* k : {&t.hash_key, t.range_key ? &*t.range_key : nullptr, i ? &i->hash_key : nullptr,
                                 i && i->range_key ? &*i->range_key : nullptr}) {
    if (!k || member(out, k->name)) continue;
    if (const rj::Value* v = member(item, k->name)) {
      out.AddMember(rj::Value(k->name.c_str(), alloc), rj::Value(*v, alloc), alloc);
    }
  }
  return out;
}

// A stable spread of hash keys over a parallel Scan's segments (FNV-1a of the key's bytes).
std::uint32_t segment_of(std::string_view hash_key_bytes, std::uint32_t total_segments) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const unsigned char c : hash_key_bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<std::uint32_t>(h % total_segments);
}

dynamo_result read_page(statement& st, const read_target& target, const page_options& o) {
  dynamo_result r;
  auto& alloc = r.body().GetAllocator();
  rj::Value items(rj::kArrayType);
  std::int64_t count = 0, scanned = 0;
  std::size_t bytes = 0;
  rj::Value last_key;
  bool more = false;
  const secondary_index* before_filter = o.project_to && o.project_to->global ? o.project_to : nullptr;
  const secondary_index* after_filter = o.project_to && !o.project_to->global ? o.project_to : nullptr;
  const projection keep(o.projection);
  item_parser parser(alloc);
  while (true) {
    auto step = st.step();
    if (step == statement::step_result::done) break;
    if (step == statement::step_result::error) fail_internal(st.error_message());
    if (o.total_segments > 1 && segment_of(st.column_blob(1), o.total_segments) != o.segment) continue;
    std::string_view text = st.column_text(0);
    rj::Value item = parser.parse(text);
    ++scanned;
    bytes += text.size();
    if (before_filter) item = index_projection(std::move(item), *target.table, *before_filter, alloc);
    // DynamoDB stops a page at Limit evaluated items or at 1 MB, and then returns the last
    // evaluated key even when no item follows.
    const bool last = (o.limit && scanned >= *o.limit) || bytes >= max_page_bytes;
    if (last) last_key = key_of(target, item, alloc);
    if (!o.filter || evaluate(*o.filter, &item)) {
      ++count;
      if (!o.count_only) {
        if (after_filter) item = index_projection(std::move(item), *target.table, *after_filter, alloc);
        items.PushBack(keep.apply(std::move(item), alloc), alloc);  // parsed into ALLOC: moved
      }
    }
    if (last) {
      more = true;
      break;
    }
  }
  if (!o.count_only) r.body().AddMember("Items", items, alloc);
  r.body().AddMember("Count", rj::Value(count), alloc);
  r.body().AddMember("ScannedCount", rj::Value(scanned), alloc);
  if (more) r.body().AddMember("LastEvaluatedKey", last_key, alloc);
  return r;
}

page_options read_page_options(request_context& ctx, const rj::Value& request, const read_target& target,
                               std::unique_ptr<condition>& filter) {
  page_options o;
  o.limit = read_limit(request);
  o.projection = parse_projection(ctx, ctx.string_member("ProjectionExpression"));
  filter = parse_condition(ctx, ctx.string_member("FilterExpression"), "FilterExpression");
  o.filter = filter.get();
  const rj::Value* select = optional_string(request, "Select");
  const std::string_view s = select ? view(*select) : std::string_view();
  if (select && s != "COUNT" && s != "ALL_ATTRIBUTES" && s != "SPECIFIC_ATTRIBUTES" && s != "ALL_PROJECTED_ATTRIBUTES") {
    fail("1 validation error detected: Value '" + std::string(s) +
         "' at 'select' failed to satisfy constraint: Member must satisfy enum value set: "
         "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]");
  }
  o.count_only = s == "COUNT";
  const secondary_index* index = target.index;
  if (s == "ALL_PROJECTED_ATTRIBUTES" && !index) {
    fail("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
  }
  if (s == "ALL_ATTRIBUTES" && index && index->global && index->projection != projection_type::all) {
    fail(invalid + "Select type ALL_ATTRIBUTES is not supported for global secondary index " + index->name +
         " because its projection type is not ALL");
  }
  if (index && (index->global || (o.projection.empty() && s != "ALL_ATTRIBUTES"))) o.project_to = index;
  return o;
}

// The smallest byte string greater than every string that starts with PREFIX, if there is one.
std::optional<std::string> prefix_successor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

// Reads of an index join its rows in store_index (x) to the items (i).
constexpr std::string_view kIndexRead =
    "SELECT i.item, i.hk FROM store_index x JOIN store_items i ON i.tbl = x.tbl AND i.hk = x.hk AND i.rk = x.rk "
    "WHERE x.tbl = ?1 AND x.idx = ?7";

}  // namespace

dynamo_result item_tables::query(const rj::Value& request) {
  return guarded([&] {
    request_context ctx(tables_, request);
    const table_schema& t = *ctx.table;
    const read_target target = target_of(ctx, request);
    const key_attribute& hash_key = target.hash_key();
    const std::optional<key_attribute>& range_key = target.range_key();
    const rj::Value* kce = ctx.string_member("KeyConditionExpression");
    if (!kce) fail("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.");
    auto parsed = parse_key_condition_expression(view(*kce), *ctx.attrs);
    if (!parsed) fail(parsed.error());
    std::vector<key_term> terms = *std::move(parsed);
    std::unique_ptr<condition> filter;
    page_options o = read_page_options(ctx, request, target, filter);
    ctx.check_unused();

    const key_term* hash = nullptr;
    const key_term* range = nullptr;
    for (const key_term& term : terms) {
      if (term.path == hash_key.name) {
        if (hash) fail("KeyConditionExpressions must only contain one condition per key");
        hash = &term;
      } else if (range_key && term.path == range_key->name) {
        if (range) fail("KeyConditionExpressions must only contain one condition per key");
        range = &term;
      } else if (range_key) {
        fail("Query condition missed key schema element: " + range_key->name);
      } else {
        fail("Query key condition not supported");
      }
    }
    if (!hash) fail("Query condition missed key schema element: " + hash_key.name);
    if (hash->k != key_term::kind::eq) fail("Query key condition not supported");
    auto typed = [&](const rj::Value* v, const key_attribute& k) {
      if (type_of(*v) != to_string(k.type)) {
        fail(invalid + "Condition parameter type does not match schema type");
      }
      return key_bytes(*v, k.type);
    };
    std::string hk = typed(hash->a, hash_key);

    // The same query on the table's columns or, through an index, on store_index's.
    const bool on_index = target.index != nullptr;
    const std::string rk = on_index ? "x.irk" : "rk";
    std::string sql = on_index ? std::string(kIndexRead) + " AND x.ihk = ?2"
                               : "SELECT item, hk FROM store_items WHERE tbl = ?1 AND hk = ?2";
    std::vector<std::pair<int, std::string>> blobs;  // parameter, bytes
    if (range) {
      std::string a = typed(range->a, *range_key);
      switch (range->k) {
        case key_term::kind::eq: sql += " AND " + rk + " = ?3"; break;
        case key_term::kind::lt: sql += " AND " + rk + " < ?3"; break;
        case key_term::kind::le: sql += " AND " + rk + " <= ?3"; break;
        case key_term::kind::gt: sql += " AND " + rk + " > ?3"; break;
        case key_term::kind::ge: sql += " AND " + rk + " >= ?3"; break;
        case key_term::kind::between: {
          std::string b = typed(range->b, *range_key);
          if (a > b) {
            fail("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater "
                 "than or equal to lower bound; lower bound operand: AttributeValue: " + to_short_text(*range->a) +
                 ", upper bound operand: AttributeValue: " + to_short_text(*range->b));
          }
          sql += " AND " + rk + " >= ?3 AND " + rk + " <= ?4";
          blobs.emplace_back(4, std::move(b));
          break;
        }
        case key_term::kind::begins_with: {
          if (range_key->type == key_type::N) {
            fail("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator "
                 "or function: begins_with, operand type: N");
          }
          sql += " AND " + rk + " >= ?3";
          if (auto next = prefix_successor(a)) {
            sql += " AND " + rk + " < ?4";
            blobs.emplace_back(4, std::move(*next));
          }
          break;
        }
      }
      blobs.emplace_back(3, std::move(a));
    }
    bool forward = true;
    if (const rj::Value* f = member(request, "ScanIndexForward")) {
      if (!f->IsBool()) fail("ScanIndexForward must be true or false");
      forward = f->GetBool();
    }
    const char* after = forward ? " > " : " < ";
    if (const rj::Value* start = member(request, "ExclusiveStartKey")) {
      const std::string mismatch =
          "The provided starting key is invalid: The provided key element does not match the query's hash key";
      if (on_index) {
        auto [table_key, index_key] = index_start_key(t, *target.index, *start);
        if (index_key.hk != hk) fail(mismatch);
        sql += std::string(" AND (x.irk, x.hk, x.rk)") + after + "(?5, ?8, ?9)";
        blobs.emplace_back(5, std::move(index_key.rk));
        blobs.emplace_back(8, std::move(table_key.hk));
        blobs.emplace_back(9, std::move(table_key.rk));
      } else {
        item_key k = key_from_key(t, *start, "The provided starting key is invalid: ");
        if (k.hk != hk) fail(mismatch);
        sql += " AND rk" + std::string(after) + "?5";
        blobs.emplace_back(5, std::move(k.rk));
      }
    }
    const char* direction = forward ? " ASC" : " DESC";
    sql += on_index ? std::string(" ORDER BY x.irk") + direction + ", x.hk" + direction + ", x.rk" + direction
                    : std::string(" ORDER BY rk") + direction;
    sql += " LIMIT ?6";

    auto st = prepare(db_, sql);
    st->bind_text(1, t.name);
    st->bind_blob(2, hk);
    for (const auto& [index, bytes] : blobs) st->bind_blob(index, bytes);
    st->bind_int64(6, o.limit.value_or(-1));
    if (on_index) st->bind_text(7, target.index->name);
    return read_page(*st, target, o);
  });
}

namespace {

// Segment and TotalSegments of a parallel Scan, into O.
void read_segments(const rj::Value& request, page_options& o) {
  const rj::Value* segment = member(request, "Segment");
  const rj::Value* total = member(request, "TotalSegments");
  if (!segment && !total) return;
  if (!total) {
    fail("The TotalSegments parameter is required but was not present in the request when Segment parameter is "
         "present");
  }
  if (!segment) {
    fail("The Segment parameter is required but was not present in the request when parameter TotalSegments is "
         "present");
  }
  constexpr std::int64_t kMostSegments = 1000000;
  if (!total->IsInt64() || total->GetInt64() < 1 || total->GetInt64() > kMostSegments) {
    fail("1 validation error detected: Value '" + to_text(*total) +
         "' at 'totalSegments' failed to satisfy constraint: Member must have value " +
         (total->IsInt64() && total->GetInt64() > kMostSegments ? "less than or equal to 1000000"
                                                                : "greater than or equal to 1"));
  }
  if (!segment->IsInt64() || segment->GetInt64() < 0 || segment->GetInt64() >= kMostSegments) {
    fail("1 validation error detected: Value '" + to_text(*segment) +
         "' at 'segment' failed to satisfy constraint: Member must have value " +
         (segment->IsInt64() && segment->GetInt64() >= kMostSegments ? "less than or equal to 999999"
                                                                     : "greater than or equal to 0"));
  }
  if (segment->GetInt64() >= total->GetInt64()) {
    fail("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: " +
         to_text(*segment) + " is not less than TotalSegments: " + to_text(*total));
  }
  o.segment = static_cast<std::uint32_t>(segment->GetInt64());
  o.total_segments = static_cast<std::uint32_t>(total->GetInt64());
}

}  // namespace

dynamo_result item_tables::scan(const rj::Value& request) {
  return guarded([&] {
    request_context ctx(tables_, request);
    const table_schema& t = *ctx.table;
    const read_target target = target_of(ctx, request);
    std::unique_ptr<condition> filter;
    page_options o = read_page_options(ctx, request, target, filter);
    ctx.check_unused();
    read_segments(request, o);
    const bool on_index = target.index != nullptr;
    std::string sql = on_index ? std::string(kIndexRead) : "SELECT item, hk FROM store_items WHERE tbl = ?1";
    std::vector<std::pair<int, std::string>> blobs;  // parameter, bytes
    if (const rj::Value* start = member(request, "ExclusiveStartKey")) {
      if (on_index) {
        auto [table_key, index_key] = index_start_key(t, *target.index, *start);
        sql += " AND (x.ihk, x.irk, x.hk, x.rk) > (?2, ?3, ?5, ?6)";
        blobs = {{2, std::move(index_key.hk)}, {3, std::move(index_key.rk)}, {5, std::move(table_key.hk)},
                 {6, std::move(table_key.rk)}};
      } else {
        item_key k = key_from_key(t, *start, "The provided starting key is invalid: ");
        sql += " AND (hk, rk) > (?2, ?3)";
        blobs = {{2, std::move(k.hk)}, {3, std::move(k.rk)}};
      }
    }
    sql += on_index ? " ORDER BY x.ihk, x.irk, x.hk, x.rk LIMIT ?4" : " ORDER BY hk, rk LIMIT ?4";
    auto st = prepare(db_, sql);
    st->bind_text(1, t.name);
    for (const auto& [index, bytes] : blobs) st->bind_blob(index, bytes);
    // A segment's Limit counts its own items: the other segments' rows are skipped, not counted.
    st->bind_int64(4, o.total_segments > 1 ? -1 : o.limit.value_or(-1));
    if (on_index) st->bind_text(7, target.index->name);
    return read_page(*st, target, o);
  });
}

}  // namespace apigw::store
