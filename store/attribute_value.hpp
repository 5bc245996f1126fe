// DynamoDB attribute values in their JSON form ({"S": "x"}, {"N": "1"}, {"M": {...}}, ...):
// validation with DynamoDB's messages, comparison, and the byte encoding of key values whose
// memcmp order is DynamoDB's key order (S and B bytewise, N numerically).
// Thread-safety: free functions without shared state; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "common/result.hpp"
#include "store/table_schema.hpp"

namespace apigw::store {

// Ok when V is a well-formed attribute value, else DynamoDB's ValidationException message.
// Lists and maps nest at most 32 levels deep, as in DynamoDB; the functions below that walk a
// checked value recurse at most that deep.
status check_attribute_value(const rapidjson::Value& v);

// The type tag of a checked attribute value: "S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS".
// REQUIRES: check_attribute_value(v) succeeded.
std::string_view type_of(const rapidjson::Value& v);

// The payload of a checked attribute value (the string, array, object, ...).
const rapidjson::Value& payload_of(const rapidjson::Value& v);

// The bytes stored in a key column for a checked value of the key's type: S as its UTF-8 bytes,
// B decoded from base64, N as decimal's order_key.
// REQUIRES: type_of(v) == to_string(type).
std::string key_bytes(const rapidjson::Value& v, key_type type);

// DynamoDB equality: numbers numerically, sets regardless of order, lists and maps deeply.
bool values_equal(const rapidjson::Value& a, const rapidjson::Value& b);

// <0, 0, >0 for two values of the same scalar type (S, N, B); nullopt when they cannot be ordered.
std::optional<int> compare_values(const rapidjson::Value& a, const rapidjson::Value& b);

// How DynamoDB's messages show a scalar value: {N:6}, {S:abc}, {B:base64}; other types as {L},
// {M}, {SS}, ...
std::string to_short_text(const rapidjson::Value& v);

// Standard base64 (with padding) to bytes; nullopt when TEXT is not base64.
std::optional<std::string> decode_base64(std::string_view text);

// Approximately DynamoDB's item size: attribute names plus value sizes (the 400 KB limit).
std::size_t item_size(const rapidjson::Value& item);

}  // namespace apigw::store
