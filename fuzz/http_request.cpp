// libFuzzer target: an HTTP request as the emulator's HTTP session receives it, without sockets.
// The bytes go through Beast's request parser with the session's limits; a complete request then
// goes through the same decisions and builders the sessions use: the management API (path,
// stage, connection id), the /@emulator/ endpoints (explain runs route selection on the body),
// is_upgrade, and the $connect event built from the handshake's headers and query string.
// The in-process server target (server.cpp) covers the sessions themselves.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "config/config_loader.hpp"
#include "emulator/core/admin_api.hpp"
#include "emulator/auth/connection_info.hpp"
#include "emulator/core/connection_registry.hpp"
#include "emulator/core/gateway.hpp"
#include "emulator/core/management_api.hpp"
#include "emulator/core/tracer.hpp"
#include "store/session_store.hpp"
#include "store/table_schema.hpp"
#include "apigw/handler_registry.hpp"

namespace {

namespace http = boost::beast::http;
using namespace apigw::emulator;

// The HTTP session's limits (emulator/http_session.cpp).
constexpr std::uint32_t k_header_limit = 16 * 1024;
constexpr std::uint64_t k_body_limit = 1024 * 1024;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "http_request fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

// What every input shares: the default API (the lab's), its gateway, an empty registry, a store
// with the lab's table.
struct world {
  world() {
    auto loaded = apigw::config::load_default();
    if (!loaded) fail("default API", loaded.error());
    api = *std::move(loaded);
    auto created = gateway::create(api, registry);
    if (!created) fail("gateway", created.error());
    gw = std::move(*created);
    trace = std::make_unique<tracer>(tracer::options{});
    management = std::make_unique<management_api>(connections, api);
    std::vector<apigw::store::table_schema> tables;
    for (const auto& spec : api.tables) {
      rapidjson::Document definition;
      definition.Parse(spec.definition_json.c_str());
      auto parsed = apigw::store::parse_table_schema(definition, spec.json_path);
      if (!parsed) fail("the default API's table", parsed.error());
      tables.push_back(*std::move(parsed));
    }
    auto opened = apigw::store::session_store::open({}, tables);
    if (!opened) fail("the store", opened.error());
    store = std::move(*opened);
    admin = std::make_unique<admin_api>(connections, *gw, *trace, *store);
  }
  apigw::config::api_spec api;
  apigw::handler_registry registry = apigw::handler_registry::with_builtins();
  std::unique_ptr<gateway> gw;
  connection_registry connections;
  std::unique_ptr<tracer> trace;
  std::unique_ptr<management_api> management;
  std::unique_ptr<apigw::store::session_store> store;  // the lab's table, empty
  std::unique_ptr<admin_api> admin;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static world w;

  http::request_parser<http::string_body> parser;
  parser.header_limit(k_header_limit);
  parser.body_limit(k_body_limit);
  parser.eager(true);
  boost::beast::error_code ec;
  const std::size_t used = parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;
  if (used > size) fail("the parser used more bytes than it was given", "");

  auto req = parser.release();
  const std::string_view target = req.target();
  const std::string_view method = req.method_string();
  const std::string_view body = req.body();

  if (management_api::is_management_target(target)) {
    const http_answer answer = w.management->handle_http(method, target, body);
    if (answer.status < 100 || answer.status > 599) fail("a management answer without a status", target);
  }
  if (admin_api::is_admin_target(target)) {
    const http_answer answer = w.admin->handle_http(method, target, body);
    if (answer.status < 100 || answer.status > 599) fail("an admin answer without a status", target);
  }
  if (!boost::beast::websocket::is_upgrade(req)) return 0;

  // The $connect event, as the WebSocket session builds it from the handshake.
  connection_info info;
  info.id = "fuzzConnId0=";
  info.source_ip = "127.0.0.1";
  info.local_port = 8080;
  if (auto host = req.find(http::field::host); host != req.end()) info.domain_name = std::string(host->value());
  if (auto agent = req.find(http::field::user_agent); agent != req.end()) info.user_agent = std::string(agent->value());
  if (auto q = target.find('?'); q != std::string_view::npos) info.query = std::string(target.substr(q + 1));
  header_list headers;
  for (const auto& field : req) headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  const auto ids = gateway::new_request(false);
  rapidjson::Document event;
  w.gw->events().connect_event(event, info, headers, ids);
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  if (!event.Accept(writer)) fail("the $connect event does not serialize", target);
  return 0;
}
