// apigw::embedded_emulator (include/apigw/emulator.hpp): the public face of emulator::server.
#include "apigw/emulator.hpp"

#include <optional>
#include <utility>

#include "common/result.hpp"
#include "config/config_loader.hpp"
#include "emulator/net/server.hpp"
#include "apigw/tables_api.hpp"
#include "store/session_store.hpp"

namespace apigw {
namespace {

// The store's tables as handlers see them, without an integration's IAM policy.
class store_tables final : public tables_api {
 public:
  explicit store_tables(store::session_store& store) : store_(store) {}
  dynamo_result call(std::string_view operation, const rapidjson::Value& request) override {
    return store_.call(operation, request);
  }

 private:
  store::session_store& store_;
};

}  // namespace

class embedded_emulator::impl {
 public:
  enum class source { file, json, built_in };

  impl(source kind, std::string text, std::string name)
      : kind_(kind), text_(std::move(text)), name_(std::move(name)),
        handlers_(handler_registry::with_builtins()) {}

  result<config::api_spec> load() const {
    switch (kind_) {
      case source::file: return config::load_file(text_);
      case source::json: return config::load_text(text_, name_);
      case source::built_in: break;
    }
    return config::load_default();
  }

  status start(const emulator_options& o) {
    if (server_) return fail("the emulator is already running at " + server_->url());
    auto loaded = load();
    if (!loaded) return loaded.status();

    emulator::server_options options;
    options.host = o.host;
    options.port = o.port;
    options.threads = o.threads;
    options.store_path = o.store_path;
    options.log = o.log;
    options.log_invocations = o.print_logs;
    options.print_trace = o.print_logs;
    options.admin = o.admin;
    auto made = emulator::server::create(*std::move(loaded), handlers_, options);
    if (!made) return made.status();
    auto server = *std::move(made);
    if (auto started = server->start(); !started) return started;
    server_ = std::move(server);
    tables_.emplace(server_->store());
    return {};
  }

  void stop() {
    if (!server_) return;
    server_->stop();
    tables_.reset();
    server_.reset();
  }

  handler_registry& handlers() { return handlers_; }
  emulator::server* server() const { return server_.get(); }
  tables_api& tables() { return *tables_; }

 private:
  source kind_;
  std::string text_;  // the file name or the JSON text
  std::string name_;  // the JSON text's name in messages
  handler_registry handlers_;
  std::unique_ptr<emulator::server> server_;
  std::optional<store_tables> tables_;
};

embedded_emulator::embedded_emulator(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
embedded_emulator::~embedded_emulator() {
  if (impl_) impl_->stop();
}
embedded_emulator::embedded_emulator(embedded_emulator&&) noexcept = default;
embedded_emulator& embedded_emulator::operator=(embedded_emulator&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

embedded_emulator embedded_emulator::from_file(std::string path) {
  return embedded_emulator(std::make_unique<impl>(impl::source::file, std::move(path), std::string()));
}

embedded_emulator embedded_emulator::from_json(std::string json, std::string source_name) {
  return embedded_emulator(std::make_unique<impl>(impl::source::json, std::move(json), std::move(source_name)));
}

embedded_emulator embedded_emulator::with_default_api() {
  return embedded_emulator(std::make_unique<impl>(impl::source::built_in, std::string(), std::string()));
}

handler_registry& embedded_emulator::handlers() { return impl_->handlers(); }
std::string embedded_emulator::start(const emulator_options& options) {
  auto started = impl_->start(options);
  return started ? std::string() : std::move(started).error();
}
void embedded_emulator::stop() { impl_->stop(); }
bool embedded_emulator::running() const { return impl_ && impl_->server() != nullptr; }
std::uint16_t embedded_emulator::port() const { return impl_->server()->port(); }
std::string embedded_emulator::url() const { return impl_->server()->url(); }
connections_api& embedded_emulator::connections() { return impl_->server()->connections(); }
tables_api& embedded_emulator::tables() { return impl_->tables(); }

}  // namespace apigw
