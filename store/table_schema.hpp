// The key schema of one DynamoDB-shaped table, and its parser from DynamoDB's CreateTable JSON
// (what a user pastes from a CloudFormation AWS::DynamoDB::Table's Properties).
// Thread-safety: plain values and free functions without shared state; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "common/result.hpp"

namespace apigw::store {

// DynamoDB's scalar key types.
enum class key_type { S, N, B };

std::string_view to_string(key_type t);
std::optional<key_type> parse_key_type(std::string_view s);

struct key_attribute {
  std::string name;
  key_type type = key_type::S;

  bool operator==(const key_attribute&) const = default;
};

// Which attributes a secondary index holds besides the keys of the table and the index.
enum class projection_type { keys_only, include, all };

// A GlobalSecondaryIndexes or LocalSecondaryIndexes element of CreateTable.
struct secondary_index {
  std::string name;
  bool global = true;  // false: local (the table's hash key, another range key)
  key_attribute hash_key;
  std::optional<key_attribute> range_key;
  projection_type projection = projection_type::all;
  std::vector<std::string> non_key_attributes;  // what INCLUDE adds

  bool operator==(const secondary_index&) const = default;
};

struct table_schema {
  std::string name;
  key_attribute hash_key;
  std::optional<key_attribute> range_key;
  // The CreateTable JSON it was parsed from, compact (its billing mode, throughput and the like
  // show in DescribeTable); empty when made otherwise.
  std::string definition;
  std::vector<secondary_index> indexes;

  // Same key schema (the name is not compared).
  bool same_keys(const table_schema& other) const {
    return hash_key == other.hash_key && range_key == other.range_key;
  }

  const secondary_index* find_index(std::string_view index_name) const {
    for (const secondary_index& i : indexes) {
      if (i.name == index_name) return &i;
    }
    return nullptr;
  }
};

// "connectionId (S) HASH" or "pk (S) HASH, sk (N) RANGE": how messages show a key schema.
std::string describe_keys(const table_schema& t);

// Parses {"TableName", "KeySchema", "AttributeDefinitions", ...} as CreateTable takes it.
// Throughput, billing, streams, SSE, tags, TTL and the like are accepted and ignored; secondary
// indexes are parsed with DynamoDB's rules (at most 20 global and 5 local; a local index has the
// table's hash key and its own range key; AttributeDefinitions holds exactly the attributes that
// some key schema uses). JSON_PATH prefixes every message, e.g.
// "tables[0].KeySchema: expected 1 or 2 elements (HASH, then optional RANGE), found 3".
result<table_schema> parse_table_schema(const rapidjson::Value& value, std::string_view json_path);

// The CreateTable JSON of T (TableName, KeySchema, AttributeDefinitions and its secondary
// indexes), compact.
std::string to_create_table_json(const table_schema& t);

}  // namespace apigw::store
