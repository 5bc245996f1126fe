// The emulator inside your own program: serve an API (a config file, JSON text, or the built-in
// Websocket-Lab chat API) with the built-in handlers plus yours, on a chosen or free port.
//
//   auto emu = apigw::embedded_emulator::from_file("api.json");
//   emu.handlers().add_instance("hello", std::make_shared<hello_handler>());
//   if (auto error = emu.start(); !error.empty()) { std::cerr << error << "\n"; return 2; }
//   std::cout << emu.url() << "\n";   // ws://127.0.0.1:PORT/STAGE
//   ...
//   emu.stop();
//
// Thread-safety: create, start, stop and destroy from one thread; handlers run on the emulator's
// threads; connections() and tables() are safe from any thread while it runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "apigw/connections_api.hpp"
#include "apigw/export.hpp"
#include "apigw/handler.hpp"
#include "apigw/handler_registry.hpp"
#include "apigw/tables_api.hpp"

namespace apigw {

struct emulator_options {
  std::string host = "127.0.0.1";  // empty: the config's server.host
  int port = 0;                    // 0: a free port; -1: the config's server.port
  unsigned threads = 2;            // I/O threads; 0: one per core
  std::string store_path;          // keep the tables in this SQLite file; empty: in memory
  // The functions' log streams and the routing trace on standard error, as the command prints them.
  bool print_logs = false;
  // Where the functions' log streams go instead (outlives the emulator); null: see print_logs.
  invocation_log* log = nullptr;
  bool admin = true;               // serve /@emulator/ (health, connections, routes, dashboard)
};

// (Not "apigw::emulator": that is the namespace of the emulator's internals.)
class APIGW_EXPORT embedded_emulator {
 public:
  // The API to serve. Nothing is read or checked until start().
  static embedded_emulator from_file(std::string path);
  static embedded_emulator from_json(std::string json, std::string source_name = "<memory>");
  static embedded_emulator with_default_api();  // the Websocket-Lab chat API

  ~embedded_emulator();  // stop()s
  embedded_emulator(embedded_emulator&&) noexcept;
  embedded_emulator& operator=(embedded_emulator&&) noexcept;
  embedded_emulator(const embedded_emulator&) = delete;
  embedded_emulator& operator=(const embedded_emulator&) = delete;

  // The handlers the config's integrations may name: the built-ins, then whatever you add.
  // REQUIRES: not running.
  handler_registry& handlers();

  // Loads and checks the config, loads its plugins, builds the integrations, binds and starts
  // the threads. Returns an error message naming the file and the JSON path, or "" on success.
  std::string start(const emulator_options& options = {});

  // Closes every connection with 1001 "Going away", runs $disconnect for each, joins the threads.
  // Harmless when not running.
  void stop();

  bool running() const;
  // REQUIRES: running().
  std::uint16_t port() const;
  std::string url() const;  // "ws://HOST:PORT/STAGE"

  // The @connections management API (without IAM checks). REQUIRES: running().
  connections_api& connections();
  // The API's tables (without IAM checks), e.g. tables().call("Scan", request). REQUIRES: running().
  tables_api& tables();

 private:
  class impl;
  explicit embedded_emulator(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace apigw
