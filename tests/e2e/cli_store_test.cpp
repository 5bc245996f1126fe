// The executable with a store file: `store scan` prints a table's items as DynamoDB
// JSON, also while the emulator runs; a conflicting table declaration exits 2 naming the table;
// a killed emulator's items are found by the next run, its connection records are not.
#include "tests/e2e/lab_common.hpp"

#include <csignal>
#include <fstream>
#include <sstream>

#include "tests/support/child_process.hpp"
#include "tests/support/log_sink.hpp"

#ifndef APIGW_EMULATOR_BINARY
#error "APIGW_EMULATOR_BINARY must name the apigw-ws-emulator executable"
#endif

namespace apigw::e2e {
namespace {

struct cli_result {
  std::optional<int> status;
  std::string out;
  std::string err;
};

cli_result run_cli(const std::vector<std::string>& args) {
  child_process child(APIGW_EMULATOR_BINARY, args);
  cli_result r;
  r.out = child.read_stdout_all(10s);
  r.err = child.read_stderr_all(1s);
  r.status = child.wait(10s);
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The port of a "listening on ws://127.0.0.1:PORT/Prod\n" line, or 0.
std::uint16_t lab_port(const std::string& line) {
  static const std::regex re(R"(^listening on ws://127\.0\.0\.1:([0-9]+)/Prod\n$)");
  std::smatch m;
  if (!std::regex_match(line, m, re)) return 0;
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

class CliStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<test_server> start_lab() {
    test_server_options options;
    options.store_path = store_path_;
    options.log = &log_;
    return std::make_unique<test_server>(lab_spec(), named_handlers{}, options);
  }

  temp_dir dir_;
  const std::string store_path_ = dir_.path("lab.sqlite");
  log_sink log_;
};

TEST_F(CliStoreTest, StoreScanAndGetPrintItemsAsDynamoDbJsonWhileTheEmulatorRuns) {
  auto server = start_lab();
  auto [alice, alice_id] = join_lab(server->port(), server->store());
  auto [bob, bob_id] = join_lab(server->port(), server->store());
  ASSERT_TRUE(alice && bob);
  const std::string extra =
      R"({"connectionId":{"S":"~extra"},"nick":{"S":"carol \"c\""},"n":{"N":"42.5"},"ok":{"BOOL":true},)"
      R"("tags":{"SS":["a","b"]},"m":{"M":{"x":{"NULL":true}}},"l":{"L":[{"N":"1"},{"S":"two"}]}})";
  const auto put = server->store().call_json("PutItem", R"({"TableName":"simplechat_connections","Item":)" + extra + "}");
  ASSERT_TRUE(put.ok()) << put.to_json();

  const auto scanned = run_cli({"store", "scan", "simplechat_connections", "--store", store_path_});
  EXPECT_EQ(scanned.status, 0) << scanned.err;
  EXPECT_EQ(scanned.err, "");
  // In key order: the ids (base64url) sort before "~extra".
  const auto [first, second] = std::minmax(alice_id, bob_id);
  EXPECT_EQ(lines_of(scanned.out), (std::vector<std::string>{R"({"connectionId":{"S":")" + first + R"("}})",
                                                              R"({"connectionId":{"S":")" + second + R"("}})",
                                                              extra}))
      << scanned.out;

  const auto got = run_cli({"store", "get", "simplechat_connections", R"({"connectionId":{"S":"~extra"}})",
                            "--store", store_path_});
  EXPECT_EQ(got.status, 0) << got.err;
  EXPECT_EQ(got.out, extra + "\n");

  const auto missing = run_cli({"store", "scan", "no_such_table", "--store", store_path_});
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err, "store scan: no table named \"no_such_table\"; the tables are simplechat_connections\n");
}

TEST_F(CliStoreTest, AStoreFileThatDoesNotExistIsNamedWithHowToMakeOne) {
  const std::string path = dir_.path("lab.db");
  const auto r = run_cli({"store", "scan", "simplechat_connections", "--store", path});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "apigw-ws-emulator: store: there is no file " + path +
                       "; the emulator creates it when started with --store " + path + " (apigw-ws-emulator --store " +
                       path + "), and the store commands read it while that emulator runs or after it stops\n");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(CliStoreTest, AnotherKeySchemaForAStoredTableExitsWith2NamingTheTable) {
  start_lab().reset();  // the store file now holds simplechat_connections keyed by connectionId (S)
  std::string config(config::default_api_json());
  const std::string key_type = R"("AttributeType": "S")";
  const auto at = config.find(key_type);
  ASSERT_NE(at, std::string::npos);
  config.replace(at, key_type.size(), R"("AttributeType": "N")");
  const std::string config_path = dir_.path("lab-n.json");
  std::ofstream(config_path) << config;

  const auto r = run_cli({"--config", config_path, "--store", store_path_, "--port", "0", "--quiet"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "apigw-ws-emulator: table simplechat_connections: the store " + store_path_ +
                       " holds it with the key schema [connectionId (S) HASH] but the configuration declares "
                       "[connectionId (N) HASH]; its items would not match the new keys. Declare the old key "
                       "schema, give the table another name, or use another store file (or delete this one to "
                       "start empty)\n");
}

TEST_F(CliStoreTest, AKilledEmulatorsItemsSurviveButNotItsConnectionRecords) {
  child_process child(APIGW_EMULATOR_BINARY, {"--store", store_path_, "--port", "0", "--quiet"});
  const std::string line = child.read_stdout_line(10s);
  const auto port = lab_port(line);
  ASSERT_NE(port, 0) << "stdout: \"" << line << "\", stderr: " << child.read_stderr_all(100ms);
  connect_options o;
  o.port = port;
  o.target = "/Prod";
  ws_client alice, bob;
  ASSERT_TRUE(alice.connect(o).upgraded);
  ASSERT_TRUE(bob.connect(o).upgraded);
  // Each one's Forbidden answer names its connection and shows the server has it open (see
  // LabTest.AClientThatJustJoinedGetsTheNextMessage for why that matters).
  std::set<std::string> ids;
  for (ws_client* c : {&alice, &bob}) {
    ASSERT_TRUE(c->send_text("whoami"));
    const auto m = c->read();
    ASSERT_TRUE(is_error_frame(m, "Forbidden", ""));
    ids.insert(json_doc(m.data).str("connectionId").value_or(""));
  }
  ASSERT_TRUE(alice.send_text(send_message(R"("hello")")));
  EXPECT_TRUE(alice.read().is_text("hello"));
  EXPECT_TRUE(bob.read().is_text("hello"));  // both are in the table and recorded by now

  std::set<std::string> recorded;
  const auto connections = run_cli({"store", "connections", "--store", store_path_});
  EXPECT_EQ(connections.status, 0) << connections.err;
  for (const auto& l : lines_of(connections.out)) recorded.insert(json_doc(l).str("connectionId").value_or(l));
  std::set<std::string> stored;
  const auto scanned = run_cli({"store", "scan", "simplechat_connections", "--store", store_path_});
  EXPECT_EQ(scanned.status, 0) << scanned.err;
  for (const auto& l : lines_of(scanned.out)) stored.insert(json_doc(l).str("connectionId.S").value_or(l));
  EXPECT_EQ(recorded, ids) << connections.out;
  EXPECT_EQ(stored, ids) << scanned.out;

  ASSERT_TRUE(child.signal(SIGKILL));
  EXPECT_EQ(child.wait(10s), 128 + SIGKILL);

  auto server = start_lab();
  EXPECT_EQ(table_ids(server->store()), stored);
  EXPECT_EQ(connection_ids(server->store()), std::set<std::string>{});
  server.reset();
  const auto after = run_cli({"store", "connections", "--store", store_path_});
  EXPECT_EQ(after.status, 0) << after.err;
  EXPECT_EQ(after.out, "");
}

}  // namespace
}  // namespace apigw::e2e
