// Shared helpers of the store tests: schemas from CreateTable JSON, stores on :memory: or a
// temporary file, and operations that return the response (or error) as comparable text.
// Thread-safety: the helpers hold no state; temp_dir is per test.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/session_store.hpp"

namespace apigw::store::testing {

// REQUIRES: JSON is a valid CreateTable definition.
table_schema schema(std::string_view json);

// conns: connectionId (S) HASH; msgs: room (S) HASH, ts (N) RANGE; blobs: k (B) HASH, r (S) RANGE.
std::vector<table_schema> test_tables();

// Opens a store or fails the test.
std::unique_ptr<session_store> open_store(const std::string& path = ":memory:",
                                          const std::vector<table_schema>& tables = test_tables());

// The response JSON, or "Type: message" on error (what DynamoDB's SDKs show).
std::string run(session_store& store, std::string_view operation, std::string_view request_json);

// Removes the directory and everything in it when the test ends.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::filesystem::path file(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace apigw::store::testing
