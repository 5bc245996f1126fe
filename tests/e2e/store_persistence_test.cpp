// The session store behind a running server: with a store file, the items handlers
// wrote survive a restart while the previous run's connection records are cleared, and a table
// declared with another key schema than the file holds stops start-up with an error naming it.
#include "tests/e2e/lab_common.hpp"

#include "emulator/net/server.hpp"
#include "apigw/handler_registry.hpp"
#include "store/connection_record.hpp"
#include "tests/support/log_sink.hpp"

namespace apigw::e2e {
namespace {

// The lab's API; without $disconnect when KEEP_ITEMS, so that what $connect wrote stays behind
// when the server stops, as it does on AWS when $disconnect fails or never runs.
config::api_spec lab_api(bool keep_items) {
  auto spec = lab_spec();
  if (keep_items) {
    std::erase_if(spec.routes, [](const config::route_spec& r) { return r.route_key == "$disconnect"; });
  }
  return spec;
}

// The lab's table declared with KEY_SCHEMA and ATTRIBUTE_DEFINITIONS (JSON arrays).
config::api_spec lab_with_table(std::string_view key_schema, std::string_view attribute_definitions) {
  auto spec = lab_spec();
  EXPECT_EQ(spec.tables.size(), 1u);
  spec.tables.at(0).definition_json = R"({"TableName":"simplechat_connections","KeySchema":)" +
                                      std::string(key_schema) + R"(,"AttributeDefinitions":)" +
                                      std::string(attribute_definitions) + "}";
  return spec;
}

std::string create_error(config::api_spec spec, const std::string& store_path) {
  emulator::server_options options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 1;
  options.store_path = store_path;
  options.log_invocations = false;
  auto created = emulator::server::create(std::move(spec), apigw::handler_registry::with_builtins(), options);
  return created ? std::string() : created.error();
}

class StorePersistenceTest : public ::testing::Test {
 protected:
  std::unique_ptr<test_server> start(config::api_spec spec) {
    test_server_options options;
    options.store_path = store_path_;
    options.log = &log_;
    return std::make_unique<test_server>(std::move(spec), named_handlers{}, options);
  }

  temp_dir dir_;
  const std::string store_path_ = dir_.path("lab.sqlite");
  log_sink log_;
};

TEST_F(StorePersistenceTest, ItemsSurviveARestartAndConnectionRecordsDoNot) {
  std::string alice_id, bob_id;
  {
    auto server = start(lab_api(/*keep_items=*/true));
    auto [alice, a] = join_lab(server->port(), server->store());
    auto [bob, b] = join_lab(server->port(), server->store());
    ASSERT_TRUE(alice && bob);
    alice_id = a;
    bob_id = b;
    EXPECT_EQ(table_ids(server->store()), (std::set<std::string>{alice_id, bob_id}));
    // What a crashed emulator leaves: a record no session will delete.
    store::connection_record orphan;
    orphan.id = "OrphanRecord000=";
    orphan.connected_at = 1705503499229;
    orphan.last_active_at = 1705503499229;
    orphan.source_ip = "127.0.0.1";
    auto inserted = server->store().insert_connection(orphan);
    ASSERT_TRUE(inserted.is_ok()) << inserted.error();
    EXPECT_EQ(connection_ids(server->store()), (std::set<std::string>{alice_id, bob_id, orphan.id}));
    EXPECT_EQ(alice->close(1000).type, ws_message::kind::close);
    EXPECT_EQ(bob->close(1000).type, ws_message::kind::close);
    server->stop();
  }
  ASSERT_TRUE(std::filesystem::exists(store_path_));

  auto server = start(lab_api(/*keep_items=*/false));
  EXPECT_EQ(table_ids(server->store()), (std::set<std::string>{alice_id, bob_id}));
  EXPECT_EQ(connection_ids(server->store()), std::set<std::string>{});
  // Those connections are gone; the next chat message finds them stale and deletes them.
  EXPECT_EQ(http_call(server->port(), "GET", "/Prod/@connections/" + alice_id).status, 410);
  auto [carol, carol_id] = join_lab(server->port(), server->store());
  ASSERT_TRUE(carol);
  ASSERT_TRUE(carol->send_text(send_message(R"("is anyone here?")")));
  EXPECT_TRUE(carol->read().is_text("is anyone here?"));
  EXPECT_TRUE(log_.wait_for(2, 5s, "SendMessageFunction", "INFO", "Found stale connection, deleting "))
      << log_.dump();
  EXPECT_TRUE(log_.wait_for(1, 5s, "SendMessageFunction", "", "REPORT RequestId: ")) << log_.dump();
  EXPECT_EQ(table_ids(server->store()), std::set<std::string>{carol_id});
}

TEST_F(StorePersistenceTest, AnotherKeySchemaForAStoredTableFailsStartUpNamingIt) {
  {
    auto server = start(lab_api(/*keep_items=*/true));
    auto [alice, id] = join_lab(server->port(), server->store());
    ASSERT_TRUE(alice);
    EXPECT_EQ(alice->close(1000).type, ws_message::kind::close);
  }
  struct schema_case {
    std::string name;
    std::string key_schema;
    std::string attribute_definitions;
    std::string declared;  // how the error describes the declared keys
  };
  const std::vector<schema_case> cases = {
      {"another hash key", R"([{"AttributeName":"id","KeyType":"HASH"}])",
       R"([{"AttributeName":"id","AttributeType":"S"}])", "id (S) HASH"},
      {"another key type", R"([{"AttributeName":"connectionId","KeyType":"HASH"}])",
       R"([{"AttributeName":"connectionId","AttributeType":"N"}])", "connectionId (N) HASH"},
      {"an added range key",
       R"([{"AttributeName":"connectionId","KeyType":"HASH"},{"AttributeName":"at","KeyType":"RANGE"}])",
       R"([{"AttributeName":"connectionId","AttributeType":"S"},{"AttributeName":"at","AttributeType":"N"}])",
       "connectionId (S) HASH, at (N) RANGE"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto error = create_error(lab_with_table(c.key_schema, c.attribute_definitions), store_path_);
    EXPECT_EQ(error, "table simplechat_connections: the store " + store_path_ +
                         " holds it with the key schema [connectionId (S) HASH] but the configuration "
                         "declares [" +
                         c.declared +
                         "]; its items would not match the new keys. Declare the old key schema, give "
                         "the table another name, or use another store file (or delete this one to start empty)");
  }
  // Nothing was lost: the right declaration finds the item again.
  auto server = start(lab_api(/*keep_items=*/true));
  EXPECT_EQ(table_ids(server->store()).size(), 1u);
}

}  // namespace
}  // namespace apigw::e2e
