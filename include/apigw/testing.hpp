// GoogleTest helpers for your backend's tests: an emulator inside the test process serving your
// config with your handlers, clients that send and expect frames with a timeout, a look at the
// tables. Link apigw::testing.
//
//   TEST(ChatTest, Echoes) {
//     apigw::testing::test_emulator emu(config_json, [](apigw::handler_registry& r) {
//       r.add_instance("echo-upper", std::make_shared<upper_handler>());
//     });
//     ASSERT_TRUE(emu.started());
//     auto alice = emu.connect();
//     ASSERT_TRUE(alice.connected());
//     ASSERT_TRUE(alice.send(R"({"action":"shout","data":"hi"})"));
//     EXPECT_TRUE(alice.expect_frame("HI"));
//   }
//
// Thread-safety: use each object from the test's thread; handlers run on the emulator's threads.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "apigw/client.hpp"
#include "apigw/dynamo_result.hpp"
#include "apigw/emulator.hpp"
#include "apigw/handler_registry.hpp"

namespace apigw::testing {

// A client of the emulator under test; every check is a ::testing::AssertionResult that says
// what arrived instead.
class test_client {
 public:
  test_client(client c, std::string connect_error);

  // Whether the upgrade succeeded; else the reason (e.g. "handshake refused with status 403").
  ::testing::AssertionResult connected() const;
  // Whether $connect refused the connection with STATUS.
  ::testing::AssertionResult refused_with(int status) const;

  ::testing::AssertionResult send(std::string_view text);
  // The next thing received is a text frame with exactly EXPECTED, within TIMEOUT.
  ::testing::AssertionResult expect_frame(std::string_view expected,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Nothing arrives within TIMEOUT.
  ::testing::AssertionResult expect_no_frame(std::chrono::milliseconds timeout = std::chrono::milliseconds(200));
  // The server closes the connection with CODE within TIMEOUT.
  ::testing::AssertionResult expect_close(int code, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // The next thing received, whatever it is.
  frame receive(std::chrono::milliseconds timeout = std::chrono::seconds(5)) { return client_.receive(timeout); }
  // Closes with 1000 and waits for the server's close frame.
  frame close() { return client_.close(1000); }
  client& raw() { return client_; }

 private:
  client client_;
  std::string connect_error_;
};

// An emulator serving CONFIG_JSON (or a file) with the built-in handlers plus those ADD_HANDLERS
// registers, on 127.0.0.1 and a free port; stopped when destroyed.
class test_emulator {
 public:
  using handlers_function = std::function<void(handler_registry&)>;

  explicit test_emulator(std::string config_json, const handlers_function& add_handlers = {},
                         const emulator_options& options = {});
  // The same from a config file (plugin libraries resolve against its folder).
  static test_emulator from_file(std::string path, const handlers_function& add_handlers = {},
                                 const emulator_options& options = {});

  // Whether it runs; else the config's or the server's error message.
  ::testing::AssertionResult started() const;

  // Connects to the stage, or to PATH_AND_QUERY (e.g. "/dev?token=a") when given.
  test_client connect(std::string_view path_and_query = "", const client_options& options = {});

  // One table call on the store (no IAM checks); REQUEST_JSON is the DynamoDB request.
  dynamo_result table_call(std::string_view operation, std::string_view request_json);
  // The number of items in TABLE (a Scan), or -1 with a GoogleTest failure when the scan fails.
  int item_count(std::string_view table);

  embedded_emulator& emulator() { return emulator_; }
  std::string url() const { return emulator_.url(); }

 private:
  test_emulator(embedded_emulator e, const handlers_function& add_handlers, const emulator_options& options);

  embedded_emulator emulator_;
  std::string error_;
};

}  // namespace apigw::testing
