#include "emulator/net/server.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <iostream>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "emulator/core/console_log.hpp"
#include "emulator/core/gateway.hpp"
#include "emulator/auth/arn.hpp"
#include "emulator/auth/iam_policy.hpp"
#include "emulator/core/management_api.hpp"
#include "emulator/integrations/plugin_loader.hpp"
#include "store/session_store.hpp"
#include "store/table_schema.hpp"
#include "emulator/functions/function_host.hpp"
#include "emulator/net/listener.hpp"
#include "emulator/net/runtime_api_server.hpp"
#include "emulator/net/server_context.hpp"
#include "emulator/core/tracer.hpp"

namespace apigw::emulator {

namespace net = boost::asio;

namespace {
// Blocking handlers that may run at once, like a Lambda's reserved concurrency; more wait for a
// worker and time out like any slow integration.
constexpr unsigned kWorkerThreads = 32;
}  // namespace

class server::impl {
 public:
  impl(config::api_spec api, std::shared_ptr<store::session_store> store, server_options options,
       apigw::handler_registry handlers)
      : api_(std::move(api)), handlers_(std::move(handlers)), store_(std::move(store)), options_(std::move(options)),
        threads_count_(options_.threads ? options_.threads
                                        : std::max(1u, std::thread::hardware_concurrency())),
        ioc_(1), management_(registry_, api_),
        dynamodb_(*store_, api_, api_.strict_credentials || options_.strict_credentials),
        stderr_log_(std::cerr) {}

  // The gateway needs the services above; a config error (handler, policy, expression) here.
  status build() {
    gateway::services services;
    services.connections = &management_;
    services.store = store_.get();
    if (options_.log) {
      services.log = options_.log;
    } else if (options_.log_invocations) {
      services.log = &stderr_log_;
    }
    auto functions = functions::function_host::create(api_, runtime_api_opener(ioc_), services.log);
    if (!functions) return functions.status();
    functions_ = std::move(*functions);
    // What a function's code calls is judged by its integration's policy, as its role would be.
    for (const auto& [name, integration] : api_.integrations) {
      const auto* keys = functions_->credentials(name);
      if (keys == nullptr) continue;
      std::optional<iam_policy> policy;
      if (!integration.policy_json.empty()) {
        rapidjson::Document document;
        document.Parse(integration.policy_json.c_str());
        auto parsed = iam_policy::parse(document);
        if (!parsed) return fail(api_.source + ": " + integration.json_path + ".policy." + parsed.error());
        policy = std::move(*parsed);
      }
      config::credential_spec key;
      key.access_key_id = keys->access_key_id;
      key.secret_access_key = keys->secret_access_key;
      key.arn = keys->role_arn;
      key.json_path = integration.json_path;
      dynamodb_.add_function_signer(key, name,
                                    policy ? std::make_shared<const iam_policy>(*policy) : nullptr);
      management_.add_function_signer(std::move(key), policy ? &*policy : nullptr);
    }
    services.make_function = [this](const std::string& name) { return functions_->make_handler(name); };
    services.make_function_authorizer = [this](const std::string& name) { return functions_->make_authorizer(name); };
    auto made = gateway::create(api_, handlers_, services);
    if (!made) return made.status();
    gw_ = std::move(*made);

    tracer::options trace_options;
    if (options_.print_trace) {
      trace_options.trace_out = &std::cerr;
      // One ordered stream when both go to standard error: an event's function lines, then its
      // trace line.
      if (services.log == &stderr_log_) trace_options.trace_writer = &stderr_log_.writer();
    }
    trace_options.trace_format = options_.trace_as_json ? tracer::format::json : tracer::format::text;
    trace_options.api = {api_.api_id, api_.stage.name};
    if (!api_.stage.access_log_format.empty()) {
      auto parsed = access_log_format::parse(api_.stage.access_log_format);
      if (!parsed) return fail(api_.source + ": stage.accessLogFormat: " + parsed.error());
      trace_options.access_format = *std::move(parsed);
      trace_options.access_out = &std::cout;
      if (!options_.access_log_path.empty()) {
        access_file_.open(options_.access_log_path, std::ios::app);
        if (!access_file_) {
          return fail("cannot open the access log " + options_.access_log_path + ": " + std::strerror(errno));
        }
        trace_options.access_out = &access_file_;
      }
    }
    trace_ = std::make_unique<tracer>(std::move(trace_options));
    management_.set_tracer(trace_.get());
    ctx_ = std::make_unique<server_context>(ioc_, *gw_, registry_, management_, *store_, *trace_, kWorkerThreads);
    ctx_->dynamodb = &dynamodb_;
    ctx_->admin_enabled = options_.admin;
    // An io_context per I/O thread: the first is ioc_, which also serves the listener and the
    // functions' runtime API; each of the others is kept running while it has no connection.
    ctx_->io_contexts.push_back(&ioc_);
    for (unsigned i = 1; i < threads_count_; ++i) {
      auto& io = *more_contexts_.emplace_back(std::make_unique<net::io_context>(1));
      keep_running_.emplace_back(net::make_work_guard(io));
      ctx_->io_contexts.push_back(&io);
    }
    return {};
  }

  status start() {
    const auto& api = api_;
    host_ = options_.host.empty() ? api.server.host : options_.host;
    const int port = options_.port >= 0 ? options_.port : api.server.port;
    boost::system::error_code ec;
    net::ip::tcp::endpoint endpoint;
    auto address = net::ip::make_address(host_, ec);
    if (!ec) {
      endpoint = net::ip::tcp::endpoint(address, static_cast<std::uint16_t>(port));
    } else {
      net::ip::tcp::resolver resolver(ioc_);
      auto results = resolver.resolve(host_, std::to_string(port), ec);
      if (ec || results.empty()) return fail("cannot resolve host \"" + host_ + "\": " + ec.message());
      endpoint = results.begin()->endpoint();
    }
    listener_ = std::make_shared<listener>(*ctx_);
    if (auto listening = listener_->listen(endpoint); !listening) return listening;
    port_ = listener_->local_endpoint().port();
    // Function code reaches the emulator on the address it listens on (loopback when it listens
    // on every interface).
    const auto bound = listener_->local_endpoint().address();
    const std::string reach = bound.is_unspecified() ? (bound.is_v6() ? "[::1]" : "127.0.0.1")
                              : bound.is_v6()        ? "[" + bound.to_string() + "]"
                                                     : bound.to_string();
    functions_->start("http://" + reach + ":" + std::to_string(port_));
    listener_->run();
    threads_.reserve(threads_count_);
    for (auto* io : ctx_->io_contexts) threads_.emplace_back([io] { io->run(); });
    return {};
  }

  void stop() {
    if (threads_.empty()) return;
    ctx_->stopping.store(true);
    // The listener keeps accepting while the $disconnects run: functions call the emulator's
    // DynamoDB and @connections over HTTP then; a new handshake is refused with 503.
    for (const auto& c : ctx_->registry.all()) c->close(1001, "Going away");
    // Every session ends with its close handshake and $disconnect; a client that never answers
    // the close is cut after the close timeout, a hanging handler after the integration timeout.
    const auto grace = std::chrono::duration_cast<std::chrono::milliseconds>(
                           ctx_->limits.integration_timeout) + std::chrono::seconds(12);
    ctx_->wait_for_sessions(grace);
    listener_->stop();
    // The $disconnects ran through the functions; now their processes go.
    functions_->stop();
    keep_running_.clear();
    for (auto* io : ctx_->io_contexts) io->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    ctx_->workers.stop();
    join_workers();
  }

  // True when stop() left behind a handler that never returned.
  bool abandoned() const { return abandoned_; }

  std::uint16_t port() const { return port_; }
  store::session_store& store() { return *store_; }

 private:
  // A handler that never returns cannot be interrupted. Every client was already answered at
  // the integration timeout; the pool gets a short grace to let go, then is left running so
  // that stopping (and a SIGTERM) still ends. The server object is then never destroyed.
  void join_workers() {
    constexpr auto kWorkerGrace = std::chrono::seconds(2);
    auto joined = std::make_shared<std::promise<void>>();
    auto done = joined->get_future();
    std::thread joiner([this, joined] {
      ctx_->workers.join();
      joined->set_value();
    });
    if (done.wait_for(kWorkerGrace) == std::future_status::ready) {
      joiner.join();
      return;
    }
    joiner.detach();
    abandoned_ = true;
    std::cerr << "apigw-ws-emulator: stopped with a handler still running (it did not return "
                 "within its integration timeout); its result is discarded\n";
  }

 public:
  apigw::connections_api& connections() { return management_; }
  std::string url() const {
    return "ws://" + host_ + ":" + std::to_string(port_) + "/" + api_.stage.name;
  }

 private:
  config::api_spec api_;
  // The built-ins, the embedding program's and the plugins' handlers: outlives the gateway, whose
  // handlers may come from a plugin library that this registry keeps loaded.
  apigw::handler_registry handlers_;
  std::shared_ptr<store::session_store> store_;
  server_options options_;
  unsigned threads_count_;
  // I/O threads 2..N. Declared before ioc_ so as to outlive it: ioc_ holds the listener's pending
  // accept, whose new socket already belongs to one of these.
  std::vector<std::unique_ptr<net::io_context>> more_contexts_;
  net::io_context ioc_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running_;
  connection_registry registry_;
  management_api management_;
  dynamodb_api dynamodb_;
  console_log stderr_log_;
  std::ofstream access_file_;
  std::unique_ptr<functions::function_host> functions_;
  std::unique_ptr<gateway> gw_;
  std::unique_ptr<tracer> trace_;
  std::unique_ptr<server_context> ctx_;
  std::shared_ptr<listener> listener_;
  std::vector<std::thread> threads_;
  std::string host_;
  std::uint16_t port_ = 0;
  bool abandoned_ = false;
};

server::server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
server::~server() {
  stop();
  // Threads still inside a handler use the gateway, the store and the registry: leave them be.
  if (impl_ && impl_->abandoned()) static_cast<void>(impl_.release());
}

result<std::unique_ptr<server>> server::create(config::api_spec api, const apigw::handler_registry& registry,
                                               server_options options) {
  apigw::handler_registry handlers = registry;
  if (auto loaded = load_plugins(api, handlers); !loaded) return loaded;

  std::shared_ptr<store::session_store> store = options.shared_store;
  if (!store) {
    auto opened = open_store({&api}, options);
    if (!opened) return opened.status();
    store = *std::move(opened);
  }
  auto p = std::make_unique<impl>(std::move(api), std::move(store), std::move(options), std::move(handlers));
  if (auto built = p->build(); !built) return built;
  return std::unique_ptr<server>(new server(std::move(p)));
}

result<std::shared_ptr<store::session_store>> server::open_store(const std::vector<const config::api_spec*>& apis,
                                                                  const server_options& options) {
  std::vector<store::table_schema> tables;
  std::map<std::string, std::pair<const config::api_spec*, const config::table_spec*>> declared;
  for (const config::api_spec* api : apis) {
    for (const auto& spec : api->tables) {
      rapidjson::Document definition;
      definition.Parse(spec.definition_json.c_str());
      auto parsed = store::parse_table_schema(definition, spec.json_path);
      if (!parsed) return fail(api->source + ": " + parsed.error());
      const auto [first, added] = declared.emplace(parsed->name, std::pair{api, &spec});
      if (!added) {
        if (first->second.second->definition_json == spec.definition_json) continue;
        return fail(api->source + ": " + spec.json_path + ": table " + parsed->name + " is declared differently by " +
                    first->second.first->source + " (" + first->second.second->json_path +
                    "); the APIs one emulator serves share one store, where a table has one definition");
      }
      tables.push_back(*std::move(parsed));
    }
  }
  store::session_store::options store_options;
  if (!options.store_path.empty()) store_options.path = options.store_path;
  store_options.table_arn_prefix = dynamodb_table_arn(apis.front()->region, "");
  auto opened = store::session_store::open(store_options, tables);
  if (!opened) return opened.status();
  return std::shared_ptr<store::session_store>(*std::move(opened));
}

status server::start() { return impl_->start(); }
void server::stop() { impl_->stop(); }
std::uint16_t server::port() const { return impl_->port(); }
store::session_store& server::store() { return impl_->store(); }
apigw::connections_api& server::connections() { return impl_->connections(); }
std::string server::url() const { return impl_->url(); }

}  // namespace apigw::emulator
