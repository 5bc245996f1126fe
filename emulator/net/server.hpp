// The emulator: one port serving the WebSocket API, its management API and its pages.
// Thread-safety: create/start/stop from one controlling thread; the server runs its own threads.
// Boost.Beast stays out of this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "config/api_config.hpp"
#include "apigw/handler_registry.hpp"
#include "store/session_store.hpp"

namespace apigw::emulator {

struct server_options {
  std::string host;          // empty: the config's server.host
  int port = -1;             // -1: the config's server.port; 0: a free port
  unsigned threads = 0;      // 0: one per core
  std::string store_path;    // the SQLite file of the session store; empty: in memory
  // A store that several servers share (the APIs of one template): used instead of opening one
  // (store_path is then ignored); its tables are declared by whoever opened it (open_store).
  std::shared_ptr<store::session_store> shared_store;
  // Where the functions' log streams go; null: standard error, unless log_invocations is false.
  apigw::invocation_log* log = nullptr;
  bool log_invocations = true;
  bool admin = true;         // serve /@emulator/ (health, connections, routes, explain, trace)
  // The routing trace on standard error: every connect, message and disconnect with its decision.
  bool print_trace = true;
  bool trace_as_json = false;  // JSON lines instead of text
  // Where the stage's access log goes (when it has an accessLogFormat); empty: standard output.
  std::string access_log_path;
  // As the config's "strictCredentials": true (--strict-credentials) refuses DynamoDB calls that
  // are unsigned or signed with an unknown key.
  bool strict_credentials = false;
};

class server {
 public:
  // Loads the plugin libraries the API names (emulator/plugin_loader.hpp), validates what the
  // config loader cannot (handler names and options, selection expression) and builds the server
  // without binding. The error says what is wrong and where.
  static result<std::unique_ptr<server>> create(config::api_spec api, const apigw::handler_registry& registry,
                                                server_options options);

  // The session store of APIS (the tables of each declared; a table two of them declare must be
  // declared alike) as OPTIONS ask (store_path), for server_options::shared_store.
  static result<std::shared_ptr<store::session_store>> open_store(const std::vector<const config::api_spec*>& apis,
                                                                  const server_options& options);

  ~server();  // stop()s if running
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds, listens and starts the threads. The error names the host or address and the reason.
  status start();

  // Closes every connection with 1001 "Going away", runs $disconnect for each, joins the threads.
  void stop();

  std::uint16_t port() const;   // the bound port, after start()
  // The session store: the API's tables and the connection records (for tests and tools).
  store::session_store& store();
  // The @connections management API, as handlers see it (without IAM checks).
  apigw::connections_api& connections();
  std::string url() const;      // "ws://HOST:PORT/STAGE", after start()

  class impl;

 private:
  explicit server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace apigw::emulator
