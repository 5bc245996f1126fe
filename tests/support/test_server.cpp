#include "tests/support/test_server.hpp"

#include <stdexcept>

#include "config/config_loader.hpp"
#include "emulator/net/server.hpp"
#include "apigw/handler_registry.hpp"

namespace apigw::test_support {

namespace {

config::api_spec load_or_throw(std::string_view config_json) {
  auto loaded = config::load_text(config_json, "e2e.json");
  if (!loaded) throw std::runtime_error("config rejected: " + loaded.error());
  return *std::move(loaded);
}

test_server_options with_threads(unsigned threads) {
  test_server_options o;
  o.threads = threads;
  return o;
}

}  // namespace

test_server::test_server(std::string_view config_json, named_handlers handlers, unsigned threads)
    : test_server(load_or_throw(config_json), std::move(handlers), with_threads(threads)) {}

test_server::test_server(std::string_view config_json, named_handlers handlers,
                         const test_server_options& options)
    : test_server(load_or_throw(config_json), std::move(handlers), options) {}

test_server::test_server(config::api_spec spec, named_handlers handlers, const test_server_options& test_options) {
  stage_ = spec.stage.name;

  auto registry = apigw::handler_registry::with_builtins();
  for (auto& [name, handler] : handlers) registry.add_instance(name, std::move(handler));

  emulator::server_options options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = test_options.threads;
  options.store_path = test_options.store_path;
  options.log = test_options.log;
  auto created = emulator::server::create(std::move(spec), registry, options);
  if (!created) throw std::runtime_error("server::create failed: " + created.error());
  server_ = *std::move(created);
  if (auto started = server_->start(); !started) {
    throw std::runtime_error("server::start failed: " + started.error());
  }
}

test_server::~test_server() = default;

std::uint16_t test_server::port() const { return server_->port(); }

std::string test_server::url() const { return server_->url(); }

std::string test_server::host_port() const { return "127.0.0.1:" + std::to_string(port()); }

connect_options test_server::options(std::string target) const {
  connect_options o;
  o.host = "127.0.0.1";
  o.port = port();
  o.target = target.empty() ? "/" + stage_ : std::move(target);
  return o;
}

void test_server::stop() { server_->stop(); }

store::session_store& test_server::store() { return server_->store(); }

}  // namespace apigw::test_support
