#include "tests/store/store_test_support.hpp"

#include <atomic>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

namespace apigw::store::testing {

table_schema schema(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  auto r = parse_table_schema(d, "test");
  if (!r) {
    ADD_FAILURE() << r.error();
    return {};
  }
  return *r;
}

std::vector<table_schema> test_tables() {
  return {
      schema(R"({"TableName": "conns", "KeySchema": [{"AttributeName": "connectionId", "KeyType": "HASH"}],
                 "AttributeDefinitions": [{"AttributeName": "connectionId", "AttributeType": "S"}]})"),
      schema(R"({"TableName": "msgs", "KeySchema": [{"AttributeName": "room", "KeyType": "HASH"},
                                                     {"AttributeName": "ts", "KeyType": "RANGE"}],
                 "AttributeDefinitions": [{"AttributeName": "room", "AttributeType": "S"},
                                          {"AttributeName": "ts", "AttributeType": "N"}]})"),
      schema(R"({"TableName": "blobs", "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"},
                                                      {"AttributeName": "r", "KeyType": "RANGE"}],
                 "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "B"},
                                          {"AttributeName": "r", "AttributeType": "S"}]})"),
  };
}

std::unique_ptr<session_store> open_store(const std::string& path, const std::vector<table_schema>& tables) {
  auto r = session_store::open({path, std::chrono::seconds(5)}, tables);
  if (!r) {
    ADD_FAILURE() << "open failed: " << r.error();
    return nullptr;
  }
  return *std::move(r);
}

std::string run(session_store& store, std::string_view operation, std::string_view request_json) {
  dynamo_result r = store.call_json(operation, request_json);
  if (!r.ok()) return r.error().type + ": " + r.error().message;
  return r.to_json();
}

temp_dir::temp_dir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("apigw_store_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
  std::filesystem::create_directories(path_);
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace apigw::store::testing
