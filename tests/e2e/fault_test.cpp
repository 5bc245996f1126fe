// Faults, end to end over loopback: handlers that throw or hang, the worker pool run
// dry, posts racing a close, a client that never reads, a flood of handshakes, the store file
// locked, read-only or on a full disk, and SIGTERM under load. In each case: a clear error where
// there is one, no crash, $disconnect exactly once per connection, others unaffected, and a
// store file that passes PRAGMA integrity_check. docs/reliability.md lists them.
#include "tests/e2e/reliability_common.hpp"

namespace apigw::e2e {
namespace {

// ---- handlers -----------------------------------------------------------------------------------

// Throws something that is not a std::exception.
class odd_thrower final : public apigw::handler {
 public:
  apigw::handler_result invoke(const rapidjson::Value&, apigw::invocation_context&) override { throw 42; }
  bool may_block() const override { return false; }
};

class FaultTest : public e2e_test {
 protected:
  ::testing::AssertionResult echoes(ws_client& c, int n = 1) {
    const std::string msg = R"({"action":"echo","n":)" + std::to_string(n) + "}";
    return round_trip(c, msg, msg);
  }

  // The ids of the connections GET /@emulator/connections lists.
  std::size_t listed_connections() {
    const auto r = http_call(server_->port(), "GET", "/@emulator/connections");
    std::size_t n = 0;
    for (std::size_t at = r.body.find("connectionId"); at != std::string::npos; at = r.body.find("connectionId", at + 1)) ++n;
    return n;
  }

  // DISCONNECT events per connection id.
  std::map<std::string, int> disconnect_counts() const {
    std::map<std::string, int> counts;
    for (const auto& e : recorder_->events("DISCONNECT")) ++counts[e.str("requestContext.connectionId").value_or("?")];
    return counts;
  }
};

TEST_F(FaultTest, HandlersThrowingAnythingOnEveryRouteLeaveTheServerServing) {
  api_config api;
  api.add_route("$connect", "rec")
      .add_route("$disconnect", "odd")
      .add_route("odd", "odd", true)
      .add_route("echo", "echo", true)
      .add_integration("rec", recorder_integration())
      .add_integration("odd", builtin("odd_thrower"));
  start(api, {{"odd_thrower", std::make_shared<odd_thrower>()}}, {});
  for (int i = 0; i < 3; ++i) {
    auto client = open();
    ASSERT_TRUE(client);
    const std::string id = last_connection_id();
    ASSERT_TRUE(client->send_text(R"({"action":"odd"})"));
    EXPECT_TRUE(is_error_frame(client->read(), "Internal server error", id));
    EXPECT_TRUE(echoes(*client, i));
    EXPECT_EQ(client->close(1000).type, ws_message::kind::close);  // $disconnect throws too
  }
  EXPECT_TRUE(eventually([&] { return listed_connections() == 0; }));
  auto last = open();
  ASSERT_TRUE(last);
  EXPECT_TRUE(echoes(*last));
}

// More hung handlers than the pool has workers (32): each caller gets "Endpoint request timed
// out" at the integration timeout, inline routes answer at once meanwhile, and once the
// handlers return the pool serves again; their late results are dropped.
TEST_F(FaultTest, HungHandlersDrainingTheWorkerPoolTimeOutAndInlineRoutesStillAnswer) {
  auto gate = std::make_shared<gate_handler>();
  api_config api;
  api.limits = R"("integrationTimeoutMillis":300)";
  api.add_route("$connect", "rec")
      .add_route("$disconnect", "rec")
      .add_route("hang", "hang", true)
      .add_route("echo", "echo", true)
      .add_integration("rec", recorder_integration())
      .add_integration("hang", builtin("gate"));
  start(api, {{"gate", gate}}, {});

  constexpr int kHung = 40;
  std::vector<std::unique_ptr<ws_client>> clients;
  std::vector<std::string> ids;
  for (int i = 0; i < kHung; ++i) {
    clients.push_back(open());
    ASSERT_TRUE(clients.back());
    ids.push_back(last_connection_id());
  }
  auto bystander = open();
  ASSERT_TRUE(bystander);
  const auto began = steady::now();
  for (auto& c : clients) ASSERT_TRUE(c->send_text(R"({"action":"hang"})"));
  EXPECT_TRUE(echoes(*bystander, 1));
  EXPECT_LT(elapsed_ms(began), 250) << "the echo waited for the hung handlers";
  for (int i = 0; i < kHung; ++i) {
    EXPECT_TRUE(is_error_frame(clients[i]->read(), "Endpoint request timed out", ids[i])) << "client " << i;
  }
  EXPECT_LT(elapsed_ms(began), 3000);
  EXPECT_TRUE(eventually([&] { return gate->waiting() == 32; })) << gate->waiting() << " waiting";
  EXPECT_TRUE(echoes(*bystander, 2));

  gate->release();
  EXPECT_TRUE(eventually([&] { return gate->waiting() == 0; }));
  ASSERT_TRUE(clients[0]->send_text(R"({"action":"hang"})"));
  EXPECT_TRUE(clients[0]->read().is_text("released"));
  // The late results of the first calls never reached anyone.
  for (int i = 1; i < kHung; ++i) EXPECT_EQ(clients[i]->read(50ms).type, ws_message::kind::timeout) << i;
  for (auto& c : clients) c->close(1000);
  bystander->close(1000);
  server_->stop();
  const auto counts = disconnect_counts();
  EXPECT_EQ(counts.size(), static_cast<std::size_t>(kHung + 1));
  for (const auto& [id, n] : counts) EXPECT_EQ(n, 1) << id;
}

// A $disconnect handler that hangs past the integration timeout: the session ends (the registry
// forgets it, stop() does not wait for the handler beyond the timeout).
TEST_F(FaultTest, DisconnectHandlerHangingPastTheTimeoutDoesNotHoldTheConnection) {
  auto gate = std::make_shared<gate_handler>();
  api_config api;
  api.limits = R"("integrationTimeoutMillis":200)";
  api.add_route("$disconnect", "hang").add_route("echo", "echo", true).add_integration("hang", builtin("gate"));
  start(api, {{"gate", gate}}, {});
  for (int i = 0; i < 3; ++i) {
    auto client = open();
    ASSERT_TRUE(client);
    EXPECT_TRUE(echoes(*client, i));
    client->close(1000);
  }
  EXPECT_TRUE(eventually([&] { return gate->waiting() == 3 && listed_connections() == 0; }));
  auto later = open();
  ASSERT_TRUE(later);
  EXPECT_TRUE(echoes(*later));
  gate->release();
}

// PostToConnection from another thread while the target closes: every answer is 200 or 410,
// 410 once it is gone, and the target gets exactly one $disconnect.
TEST_F(FaultTest, PostsRacingACloseAnswer200Or410AndDisconnectRunsOnce) {
  api_config api;
  api.add_route("$connect", "rec").add_route("$disconnect", "rec").add_route("echo", "echo", true)
      .add_integration("rec", recorder_integration());
  start(api, 4);
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto client = open();
    ASSERT_TRUE(client);
    const std::string id = last_connection_id();
    std::atomic<bool> stop{false};
    std::atomic<bool> saw_gone{false};
    std::map<int, int> statuses;  // the poster's until it is joined
    std::thread poster([&] {
      while (!stop.load()) {
        const int status = http_call(server_->port(), "POST", "/dev/@connections/" + id, "race").status;
        ++statuses[status];
        if (status == 410) saw_gone = true;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + round * 3));
    if (round % 3 == 0) {
      client->drop();
    } else if (round % 3 == 1) {
      client->close(1000);
    } else {
      EXPECT_EQ(http_call(server_->port(), "DELETE", "/dev/@connections/" + id).status, 204);
      ws_message m;
      do m = client->read();  // answers the server's close
      while (m.type == ws_message::kind::text);
      EXPECT_TRUE(m.is_close(1000, "")) << m;
    }
    const bool disconnected = recorder_->wait_for_disconnect(id, 5s).has_value();
    // Posts go on until one has met the closed connection (on a busy machine one call can take
    // longer than the close).
    eventually([&] { return saw_gone.load(); }, 5s);
    stop = true;
    poster.join();
    ASSERT_TRUE(disconnected);
    for (const auto& [status, n] : statuses) EXPECT_TRUE(status == 200 || status == 410) << status << " x" << n;
    EXPECT_GT(statuses[410], 0);
    EXPECT_EQ(http_call(server_->port(), "POST", "/dev/@connections/" + id, "late").status, 410);
  }
  server_->stop();
  for (const auto& [id, n] : disconnect_counts()) EXPECT_EQ(n, 1) << id;
}

// A client that stops reading while the gateway sends to it: once 16 MiB wait, it is closed
// with 1008 "Send queue full" and $disconnect says so; a bystander is served throughout. The
// write in flight never completes, so the close frame cannot go out: the transport is dropped
// after the close timeout.
TEST_F(FaultTest, ClientThatNeverReadsIsClosedWith1008AndOthersAreUnaffected) {
  api_config api;
  api.add_route("$connect", "rec").add_route("$disconnect", "rec").add_route("echo", "echo", true)
      .add_integration("rec", recorder_integration());
  start(api);
  auto bystander = open();
  ASSERT_TRUE(bystander);
  const std::string bystander_id = last_connection_id();
  raw_connection raw;
  ASSERT_TRUE(raw.connect("127.0.0.1", server_->port()));
  ASSERT_TRUE(raw.send(upgrade_request("/dev", server_->host_port())));
  ASSERT_EQ(raw.read_http_response().status, 101);
  const std::string id = last_connection_id();

  const std::string chunk(128 * 1024, 'q');
  int posted = 0, gone = 0;
  for (int i = 0; i < 600 && gone == 0; ++i) {
    const int status = http_call(server_->port(), "POST", "/dev/@connections/" + id, chunk).status;
    if (status == 200) ++posted;
    else if (status == 410) ++gone;
    else ADD_FAILURE() << "post " << i << " answered " << status;
    if (i % 50 == 0) {
      EXPECT_TRUE(echoes(*bystander, i));
    }
  }
  EXPECT_EQ(gone, 1) << "never refused after " << posted << " posts of 128 KiB";
  EXPECT_GE(posted, 128) << "refused before 16 MiB were queued";
  // The client never reads: the server must still end the connection, not keep it forever.
  const auto e = recorder_->wait_for_disconnect(id, 25s);
  ASSERT_TRUE(e.has_value()) << "no $disconnect for a client that never reads";
  EXPECT_EQ(e->int64("requestContext.disconnectStatusCode"), 1008) << e->text();
  EXPECT_EQ(e->str("requestContext.disconnectReason"), "Send queue full") << e->text();
  EXPECT_TRUE(echoes(*bystander, 1000));
  ASSERT_EQ(http_call(server_->port(), "POST", "/dev/@connections/" + bystander_id, "fine").status, 200);
  EXPECT_TRUE(bystander->read().is_text("fine"));
}

// A bounded flood: 400 handshakes sent at once on raw sockets. Every one is answered 101 with
// its $connect; every socket then vanishes, and each gets exactly one $disconnect (1006).
TEST_F(FaultTest, AFloodOfHandshakesIsServedAndEveryConnectionCleanedUp) {
  api_config api;
  api.add_route("$connect", "rec").add_route("$disconnect", "rec").add_route("echo", "echo", true)
      .add_integration("rec", recorder_integration());
  start(api);
  constexpr int kFlood = 400;
  std::vector<std::unique_ptr<raw_connection>> raws;
  for (int i = 0; i < kFlood; ++i) {
    raws.push_back(std::make_unique<raw_connection>(10s));
    ASSERT_TRUE(raws.back()->connect("127.0.0.1", server_->port())) << i;
  }
  for (auto& r : raws) ASSERT_TRUE(r->send(upgrade_request("/dev", server_->host_port())));
  int upgraded = 0;
  for (auto& r : raws) upgraded += r->read_http_response().status == 101;
  EXPECT_EQ(upgraded, kFlood);
  EXPECT_TRUE(recorder_->wait_for(kFlood, 10s, "CONNECT"));
  auto client = open();
  ASSERT_TRUE(client);
  EXPECT_TRUE(echoes(*client));
  for (auto& r : raws) r->close();
  EXPECT_TRUE(recorder_->wait_for(kFlood, 15s, "DISCONNECT"));
  EXPECT_TRUE(eventually([&] { return listed_connections() == 1; }, 10s));
  client->close(1000);
  server_->stop();
  const auto counts = disconnect_counts();
  EXPECT_EQ(counts.size(), static_cast<std::size_t>(kFlood + 1));
  for (const auto& [id, n] : counts) EXPECT_EQ(n, 1) << id;
}

// A handler that never returns (here: a mock sleeping an hour on a worker thread) while the
// emulator is told to stop: the connection was answered at the integration timeout, and SIGTERM
// still ends the process within the shutdown grace, not when the handler returns.
TEST(HungHandlerShutdownTest, SigtermExitsPromptlyWhileAHandlerStillHangs) {
  api_config api;
  api.limits = R"("integrationTimeoutMillis":100)";
  api.add_route("hang", "hang", true)
      .add_route("$disconnect", "hang")
      .add_integration("hang", builtin("mock", R"({"statusCode":200,"delayMillis":3600000})"));
  temp_dir dir;
  write_text_file(dir.path("api.json"), api.json());
  emulator_child e({"--config", dir.path("api.json"), "--port", "0", "--quiet"});
  ASSERT_NE(e.port(), 0) << e.startup_error();
  ws_client c;
  ASSERT_TRUE(c.connect(e.options("/dev")).upgraded);
  ASSERT_TRUE(c.send_text(R"({"action":"hang"})"));
  EXPECT_TRUE(is_error_frame(c.read(), "Endpoint request timed out", ""));
  const auto began = steady::now();
  const auto ended = e.stop(30s);
  EXPECT_EQ(ended.status, 0) << "still running " << elapsed_ms(began) << " ms after SIGTERM; " << ended.err;
  // The client does not answer the close (10 s close timeout), then the pool gets its 2 s grace.
  EXPECT_LT(elapsed_ms(began), 20000);
}

// ---- the store file ----------------------------------------------------------------------------

// The lab's API on the executable with a store file; every $connect and $disconnect is in the
// access log.
class StoreFaultTest : public ::testing::Test {
 protected:
  std::vector<std::string> lab_args(const std::string& store) {
    write_text_file(config_, lab_config_with_access_log());
    return {"--config", config_, "--port", "0", "--store", store, "--quiet", "--threads", "2", "--access-log", access_log_};
  }

  // Creates an emulator store at PATH with one item left in the lab's table (a run without
  // $disconnect would leave it; here the test writes it).
  void make_store(const std::string& path) {
    emulator_child e(lab_args(path));
    ASSERT_NE(e.port(), 0) << e.startup_error();
    ws_client c;
    ASSERT_TRUE(c.connect(e.options("/Prod")).upgraded);
    c.close(1000);
    ASSERT_EQ(e.stop().status, 0);
    sqlite_file f(path);
    ASSERT_EQ(f.scalar("SELECT count(*) FROM store_items"), "0");
  }

  temp_dir dir_;
  const std::string config_ = dir_.path("lab.json");
  const std::string access_log_ = dir_.path("access.log");
};

TEST_F(StoreFaultTest, LockedByAnotherProcessAtStartUpStopsWithAClearError) {
  const std::string store = dir_.path("lab.sqlite");
  make_store(store);
  sqlite_file other(store);
  ASSERT_EQ(other.exec("BEGIN EXCLUSIVE"), "");
  const auto began = steady::now();
  child_process child(APIGW_EMULATOR_BINARY, lab_args(store));
  const auto status = child.wait(20s);
  const std::string err = child.read_stderr_all(1s);
  EXPECT_EQ(status, 2) << err;
  EXPECT_EQ(err, "apigw-ws-emulator: cannot write " + store + ": database is locked\n");
  EXPECT_LT(elapsed_ms(began), 10000);  // the busy timeout (5 s), not forever
  ASSERT_EQ(other.exec("COMMIT"), "");
  EXPECT_EQ(integrity_of(store), "ok");
}

// While another process holds the write lock, $connect's PutItem fails after the busy timeout
// and the handshake gets the handler's 500; once the lock is gone the next client connects.
TEST_F(StoreFaultTest, LockedByAnotherProcessWhileServingFailsTheCallsThatWrite) {
  const std::string store = dir_.path("lab.sqlite");
  emulator_child e(lab_args(store));
  ASSERT_NE(e.port(), 0) << e.startup_error();
  ws_client first;
  ASSERT_TRUE(first.connect(e.options("/Prod")).upgraded);
  {
    sqlite_file other(store);
    ASSERT_EQ(other.exec("BEGIN EXCLUSIVE"), "");
    ws_client refused(15s);
    const auto began = steady::now();
    const auto hs = refused.connect(e.options("/Prod"));
    EXPECT_FALSE(hs.upgraded);
    EXPECT_EQ(hs.status, 500) << hs.error;
    EXPECT_GE(elapsed_ms(began), 4500);
    // The chat still reads: the scan works, the post reaches the first client.
    ASSERT_TRUE(first.send_text(R"({"action":"sendmessage","data":"still here"})"));
    EXPECT_TRUE(first.read(10s).is_text("still here"));
    ASSERT_EQ(other.exec("COMMIT"), "");
  }
  ws_client after;
  ASSERT_TRUE(after.connect(e.options("/Prod")).upgraded);
  after.close(1000);
  first.close(1000);
  const auto ended = e.stop();
  EXPECT_EQ(ended.status, 0);
  EXPECT_EQ(integrity_of(store), "ok");
  sqlite_file f(store);
  EXPECT_EQ(f.scalar("SELECT count(*) FROM store_items"), "0");
  EXPECT_EQ(f.scalar("SELECT count(*) FROM connections"), "0");
}

// The lab's table handlers run on the worker pool: while a $connect's PutItem waits out another
// process's lock, a route that does not touch the store still answers at once, even with a
// single I/O thread.
TEST_F(StoreFaultTest, AWriteWaitingOnALockedStoreHoldsNoIoThread) {
  std::string api = lab_config_with_access_log();
  const auto routes = api.find("\"routes\": [");
  const auto integrations = api.find("\"integrations\": {");
  ASSERT_NE(routes, std::string::npos);
  ASSERT_NE(integrations, std::string::npos);
  api.insert(integrations + std::string("\"integrations\": {").size(), R"("Echo": {"handler": "echo"}, )");
  api.insert(routes + std::string("\"routes\": [").size(),
             R"({"routeKey": "echo", "integration": "Echo", "routeResponseSelectionExpression": "$default"}, )");
  write_text_file(config_, api);
  const std::string store = dir_.path("lab.sqlite");
  emulator_child e({"--config", config_, "--port", "0", "--store", store, "--quiet", "--threads", "1"});
  ASSERT_NE(e.port(), 0) << e.startup_error();
  ws_client first;
  ASSERT_TRUE(first.connect(e.options("/Prod")).upgraded);
  sqlite_file other(store);
  ASSERT_EQ(other.exec("BEGIN EXCLUSIVE"), "");
  int refused_status = 0;
  std::thread waiting([&] {
    ws_client refused(15s);
    refused_status = refused.connect(e.options("/Prod")).status;
  });
  std::this_thread::sleep_for(500ms);  // the PutItem is waiting on the lock now
  const auto began = steady::now();
  ASSERT_TRUE(first.send_text(R"({"action":"echo","n":1})"));
  EXPECT_TRUE(first.read(3s).is_text(R"({"action":"echo","n":1})"));
  EXPECT_LT(elapsed_ms(began), 2000);
  waiting.join();
  EXPECT_EQ(refused_status, 500);
  ASSERT_EQ(other.exec("COMMIT"), "");
  first.close(1000);
  EXPECT_EQ(e.stop().status, 0);
}

// A read-only file system (remounted read-only: root ignores file modes, a mount it cannot).
TEST_F(StoreFaultTest, ReadOnlyStoreStopsStartUpWithAClearError) {
  tiny_tmpfs fs(4096);
  if (!fs.ok()) GTEST_SKIP() << fs.reason();
  const std::string store = fs.path("lab.sqlite");
  make_store(store);
  ASSERT_TRUE(fs.set_read_only(true)) << std::strerror(errno);
  child_process child(APIGW_EMULATOR_BINARY, lab_args(store));
  const auto status = child.wait(20s);
  const std::string err = child.read_stderr_all(1s);
  EXPECT_EQ(status, 2) << err;
  EXPECT_NE(err.find(store), std::string::npos) << err;
  EXPECT_NE(err.find("is on a read-only file system"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), err.size() - 1) << "one line: " << err;
  ASSERT_TRUE(fs.set_read_only(false));
  EXPECT_EQ(integrity_of(store), "ok");
}

// A full disk (a 1 MiB tmpfs filled up): at start-up a clear error; while serving, $connect's
// PutItem fails with the handler's 500 and the connection records cannot be written (said once
// per batch on standard error); after space is freed everything works, and the file is sound.
TEST_F(StoreFaultTest, FullDiskFailsWritesClearlyAndLeavesASoundFile) {
  tiny_tmpfs fs(1024);
  if (!fs.ok()) GTEST_SKIP() << fs.reason();
  {
    fs.fill("filler");
    child_process child(APIGW_EMULATOR_BINARY, lab_args(fs.path("new.sqlite")));
    const auto status = child.wait(20s);
    const std::string err = child.read_stderr_all(1s);
    EXPECT_EQ(status, 2) << err;
    EXPECT_NE(err.find(fs.path("new.sqlite")), std::string::npos) << err;
    EXPECT_NE(err.find("full"), std::string::npos) << err;
    std::filesystem::remove(fs.path("filler"));
  }
  const std::string store = fs.path("lab.sqlite");
  emulator_child e(lab_args(store));
  ASSERT_NE(e.port(), 0) << e.startup_error();
  ws_client first;
  ASSERT_TRUE(first.connect(e.options("/Prod")).upgraded);
  fs.fill("filler");
  std::vector<int> statuses;
  for (int i = 0; i < 5; ++i) {
    ws_client c;
    const auto hs = c.connect(e.options("/Prod"));
    statuses.push_back(hs.status);
    if (hs.upgraded) c.close(1000);
  }
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 500), 5) << ::testing::PrintToString(statuses);
  ASSERT_TRUE(first.send_text(R"({"action":"sendmessage","data":"full"})"));
  EXPECT_TRUE(first.read(10s).is_text("full"));
  std::filesystem::remove(fs.path("filler"));
  ws_client after;
  ASSERT_TRUE(after.connect(e.options("/Prod")).upgraded);
  after.close(1000);
  first.close(1000);
  const auto ended = e.stop();
  EXPECT_EQ(ended.status, 0) << ended.err;
  EXPECT_EQ(integrity_of(store), "ok");
  sqlite_file f(store);
  EXPECT_EQ(f.scalar("SELECT count(*) FROM store_items"), "0");
  EXPECT_EQ(f.scalar("SELECT count(*) FROM connections"), "0");
}

// ---- SIGTERM under load ------------------------------------------------------------------------

// 200 chat clients, a few of them sending to everyone in a loop: SIGTERM closes every one with
// 1001, runs $disconnect for each exactly once (the access log), leaves the table and the
// connection records empty, and exits 0.
TEST_F(StoreFaultTest, SigtermUnderLoadDisconnectsEveryConnectionOnceAndExitsZero) {
  const std::string store = dir_.path("lab.sqlite");
  emulator_child e(lab_args(store));
  ASSERT_NE(e.port(), 0) << e.startup_error();
  constexpr int kClients = 200;
  std::vector<std::unique_ptr<ws_client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<ws_client>(10s));
    ASSERT_TRUE(clients.back()->connect(e.options("/Prod")).upgraded) << i;
  }
  std::atomic<bool> sending{true};
  std::vector<std::thread> senders;
  for (int s = 0; s < 4; ++s) {
    senders.emplace_back([&, s] {
      ws_client c(10s);
      if (!c.connect(e.options("/Prod")).upgraded) return;
      for (int n = 0; sending.load(); ++n) {
        if (!c.send_text(R"({"action":"sendmessage","data":"load )" + std::to_string(s) + "\"}")) break;
        std::this_thread::sleep_for(20ms);
      }
      while (c.read(10s).type == ws_message::kind::text) {
      }
    });
  }
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(e.process().signal(SIGTERM));
  int going_away = 0;
  for (auto& c : clients) {
    ws_message m;
    do m = c->read(10s);
    while (m.type == ws_message::kind::text);
    going_away += m.is_close(1001, "Going away");
  }
  sending = false;
  for (auto& t : senders) t.join();
  EXPECT_EQ(going_away, kClients);
  const auto status = e.process().wait(20s);
  EXPECT_EQ(status, 0) << e.process().read_stderr_all(1s);
  const auto counts = count_access_log(access_log_);
  EXPECT_EQ(counts.size(), static_cast<std::size_t>(kClients + 4));
  for (const auto& [id, c] : counts) {
    EXPECT_EQ(c.accepted, 1) << id;
    EXPECT_EQ(c.disconnects, 1) << id;
  }
  EXPECT_EQ(integrity_of(store), "ok");
  sqlite_file f(store);
  EXPECT_EQ(f.scalar("SELECT count(*) FROM store_items"), "0");
  EXPECT_EQ(f.scalar("SELECT count(*) FROM connections"), "0");
}

}  // namespace
}  // namespace apigw::e2e
