// An emulator running in-process on 127.0.0.1, port 0, built from JSON config text plus extra
// handlers (e.g. a recorder): what every end-to-end test talks to.
// Thread-safety: create, use and destroy from the test's thread; the server runs its own threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/api_config.hpp"
#include "apigw/handler.hpp"
#include "tests/support/ws_client.hpp"

namespace apigw::emulator {
class server;
}

namespace apigw::store {
class session_store;
}

namespace apigw::test_support {

using named_handlers = std::vector<std::pair<std::string, std::shared_ptr<apigw::handler>>>;

// What a test may choose of emulator::server_options (host and port are always 127.0.0.1:0).
struct test_server_options {
  unsigned threads = 2;
  std::string store_path;                 // the store's SQLite file; empty: in memory
  apigw::invocation_log* log = nullptr;  // the functions' log streams; null: standard error
};

class test_server {
 public:
  // Loads CONFIG_JSON, registers HANDLERS next to the built-ins and starts the server with
  // THREADS io threads. Throws std::runtime_error with the loader's or the server's message.
  explicit test_server(std::string_view config_json, named_handlers handlers = {},
                       unsigned threads = 2);
  test_server(std::string_view config_json, named_handlers handlers, const test_server_options& options);
  // The same from an already loaded (and possibly edited) API, e.g. config::load_default()'s.
  explicit test_server(config::api_spec spec, named_handlers handlers = {},
                       const test_server_options& options = {});
  ~test_server();
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  std::uint16_t port() const;
  std::string url() const;                              // ws://127.0.0.1:PORT/STAGE
  std::string host_port() const;                        // "127.0.0.1:PORT"
  const std::string& stage() const { return stage_; }

  // Options to connect to TARGET (default "/STAGE").
  connect_options options(std::string target = "") const;

  // Closes every connection with 1001, runs $disconnect for each and joins the threads.
  void stop();

  emulator::server& server() { return *server_; }
  // The session store: the API's tables and the connection records.
  store::session_store& store();

 private:
  std::unique_ptr<emulator::server> server_;
  std::string stage_;
};

}  // namespace apigw::test_support
