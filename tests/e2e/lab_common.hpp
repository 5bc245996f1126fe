// Shared pieces of the tests that run the Websocket-Lab chat API (the emulator's default): the
// loaded default API, the ids in its table and among the connection records, a client joining.
// Thread-safety: test-thread only.
#pragma once

#include <set>
#include <string>
#include <thread>
#include <string_view>
#include <utility>

#include "config/config_loader.hpp"
#include "store/session_store.hpp"
#include "tests/e2e/e2e_common.hpp"

namespace apigw::e2e {

inline constexpr std::string_view kLabTable = "simplechat_connections";

// config::load_default(): stage Prod, the chat routes, the table and the policies.
inline config::api_spec lab_spec() {
  auto loaded = config::load_default();
  if (!loaded) {
    ADD_FAILURE() << "the default API does not load: " << loaded.error();
    return {};
  }
  return *std::move(loaded);
}

// The connectionIds in the lab's table.
inline std::set<std::string> table_ids(store::session_store& store) {
  std::set<std::string> ids;
  const auto r = store.call_json("Scan", R"({"TableName":"simplechat_connections"})");
  if (!r.ok()) {
    ADD_FAILURE() << r.to_json();
    return ids;
  }
  for (const auto& item : r.body()["Items"].GetArray()) ids.insert(item["connectionId"]["S"].GetString());
  EXPECT_EQ(r.body()["Count"].GetInt(), static_cast<int>(ids.size()));
  return ids;
}

// The ids of the emulator's connection records.
inline std::set<std::string> connection_ids(store::session_store& store) {
  std::set<std::string> ids;
  auto listed = store.list_connections();
  if (!listed) {
    ADD_FAILURE() << listed.error();
    return ids;
  }
  for (const auto& r : *listed) ids.insert(r.id);
  return ids;
}

// A client chatting on /Prod of the lab on PORT, and its connection id: the item $connect put in
// the table before the upgrade was answered. nullptr (and a failure) when the upgrade fails.
// It returns once the management API reaches the connection (GetConnection 200): the server
// marks a connection open only after the 101 went out, so a post right after the client's
// upgrade may still get 410 (ManagementApiTest.AConnectionIsReachableAsSoonAsItsClientIsUpgraded).
inline std::pair<std::unique_ptr<ws_client>, std::string> join_lab(std::uint16_t port,
                                                                   store::session_store& store) {
  const auto before = table_ids(store);
  auto client = std::make_unique<ws_client>();
  connect_options o;
  o.port = port;
  o.target = "/Prod";
  const auto hs = client->connect(o);
  if (!hs.upgraded) {
    ADD_FAILURE() << "upgrade failed: " << hs.status << " " << hs.error;
    return {nullptr, ""};
  }
  std::string id;
  for (const auto& stored : table_ids(store)) {
    if (!before.count(stored)) id = stored;
  }
  if (id.empty()) {
    ADD_FAILURE() << "no item for the new client in " << kLabTable;
    return {std::move(client), ""};
  }
  const auto began = steady::now();
  while (http_call(port, "GET", "/Prod/@connections/" + id).status != 200) {
    if (elapsed_ms(began) > 2000) {
      ADD_FAILURE() << "GetConnection never answered 200 for " << id;
      break;
    }
    std::this_thread::sleep_for(1ms);
  }
  return {std::move(client), id};
}

// The chat message {"action":"sendmessage","data":DATA_JSON}.
inline std::string send_message(std::string_view data_json) {
  return R"({"action":"sendmessage","data":)" + std::string(data_json) + "}";
}

}  // namespace apigw::e2e
