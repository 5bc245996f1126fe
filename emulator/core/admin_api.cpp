#include "emulator/core/admin_api.hpp"
#include "emulator/auth/percent_decoding.hpp"

#include <algorithm>
#include <optional>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "emulator/core/identifiers.hpp"
#include "emulator/core/redaction.hpp"
#include "emulator/core/route_explainer.hpp"

namespace apigw::emulator {

namespace {

constexpr std::string_view kPrefix = "/@emulator";

http_answer json_answer(int status, std::string body) {
  return {status, {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}}, std::move(body)};
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define APIGW_SANITIZER_ALLOCATOR 1
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define APIGW_SANITIZER_ALLOCATOR 1
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif
#endif

// Bytes the allocator has handed out and not had back (all arenas, mmapped blocks included):
// unlike the resident size, it does not keep what free() returned, so it shows what the emulator
// holds. glibc's allocator tells it, and so does a sanitizer's, which replaces it.
std::optional<std::uint64_t> heap_bytes_in_use() {
#if defined(APIGW_SANITIZER_ALLOCATOR)
  return static_cast<std::uint64_t>(__sanitizer_get_current_allocated_bytes());
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  const struct mallinfo2 info = mallinfo2();
  return static_cast<std::uint64_t>(info.uordblks) + static_cast<std::uint64_t>(info.hblkhd);
#else
  return std::nullopt;
#endif
}

}  // namespace

bool admin_api::is_admin_target(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path.substr(0, kPrefix.size()) == kPrefix &&
         (path.size() == kPrefix.size() || path[kPrefix.size()] == '/');
}

http_answer admin_api::handle_http(std::string_view method, std::string_view target,
                                   std::string_view body) const {
  std::string_view path = target.substr(0, target.find('?'));
  path.remove_prefix(kPrefix.size());
  if (path == "/explain") {
    if (method != "POST") {
      auto a = json_answer(405, R"({"message":"POST the message to explain as the request body"})");
      a.headers.emplace_back("Allow", "POST");
      return a;
    }
    return json_answer(200, explain_route(gw_, body).to_json());
  }
  if (method != "GET") {
    auto a = json_answer(405, R"({"message":"Only GET is allowed here"})");
    a.headers.emplace_back("Allow", "GET");
    return a;
  }
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  if (path == "/health") {
    w.StartObject();
    w.Key("status");
    w.String("ok");
    w.Key("apiId");
    w.String(gw_.api().api_id.c_str());
    w.Key("stage");
    w.String(gw_.api().stage.name.c_str());
    w.Key("connections");
    w.Uint64(registry_.size());
    if (const auto heap = heap_bytes_in_use()) {
      w.Key("heapBytesInUse");
      w.Uint64(*heap);
    }
    w.EndObject();
    return json_answer(200, b.GetString());
  }
  if (path == "/trace") {
    // ?limit=N, 1 to 1000 (default 100); the last limit= wins, as in a query string map.
    std::size_t limit = 100;
    const auto question = target.find('?');
    std::string_view query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
    bool bad_limit = false;
    for_each_query_parameter(query, [&](const std::string& name, const std::string& value) {
      if (name.compare("limit") != 0) return;
      limit = 0;
      for (char c : value) {
        if (c < '0' || c > '9' || limit > 1000) {
          limit = 0;
          break;
        }
        limit = limit * 10 + static_cast<std::size_t>(c - '0');
      }
      if (limit == 0 || limit > 1000) bad_limit = true;
    });
    if (bad_limit) return json_answer(400, R"({"message":"limit must be a whole number from 1 to 1000"})");
    std::string body = R"({"trace":[)";
    bool first = true;
    for (const auto& json : trace_.last(limit)) {
      if (!first) body += ',';
      body += json;
      first = false;
    }
    body += "]}";
    return json_answer(200, std::move(body));
  }
  if (path == "/routes") {
    w.StartObject();
    w.Key("routeSelectionExpression");
    w.String(gw_.expression().text().c_str());
    w.Key("routes");
    w.StartArray();
    for (const auto& r : gw_.routes()) {
      w.StartObject();
      w.Key("routeKey");
      w.String(r->key.c_str());
      w.Key("integration");
      w.String(r->integration.c_str());
      w.Key("handler");
      w.String(gw_.api().integrations.at(r->integration).handler.c_str());
      w.Key("twoWay");
      w.Bool(r->two_way);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return json_answer(200, b.GetString());
  }
  if (path == "/tables" || path.substr(0, 8) == "/tables/") return tables(path.substr(7));
  if (path == "/connections") {
    auto all = registry_.all();
    all.erase(std::remove_if(all.begin(), all.end(), [](const auto& c) { return !c->is_open(); }), all.end());
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a->info().connected_at < b->info().connected_at;
    });
    w.StartObject();
    w.Key("connections");
    w.StartArray();
    for (const auto& c : all) {
      const connection_info& info = c->info();
      w.StartObject();
      w.Key("connectionId");
      w.String(info.id.c_str());
      w.Key("connectedAt");
      w.String(iso8601_millis(info.connected_at).c_str());
      w.Key("lastActiveAt");
      w.String(iso8601_millis(c->last_active()).c_str());
      w.Key("sourceIp");
      w.String(info.source_ip.c_str());
      if (info.user_agent) {
        w.Key("userAgent");
        w.String(info.user_agent->c_str());
      }
      // A presigned handshake's signature, a token and the like are masked.
      w.Key("query");
      w.String(may_hold_secret(info.query) ? redact_secrets(info.query).c_str() : info.query.c_str());
      // The principal of a CUSTOM authorizer; null for connections no authorizer let in.
      w.Key("principalId");
      if (const auto* grant = info.authorizer()) {
        w.String(grant->principal_id.c_str());
      } else {
        w.Null();
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return json_answer(200, b.GetString());
  }
  return json_answer(404, R"({"message":"No such emulator endpoint; there are /@emulator/health, /@emulator/connections, /@emulator/routes, /@emulator/tables, /@emulator/tables/NAME, /@emulator/trace, /@emulator/feed and POST /@emulator/explain"})");
}

http_answer admin_api::tables(std::string_view rest) const {
  // The first 1,000 items of a table, in key order: what a person can read on a page.
  constexpr int kMostItems = 1000;
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  const auto all = store_.tables();
  if (rest.empty() || rest == "/") {
    w.StartObject();
    w.Key("tables");
    w.StartArray();
    for (const auto& t : all) {
      w.StartObject();
      w.Key("name");
      w.String(t.name.c_str());
      w.Key("keySchema");
      w.String(store::describe_keys(t).c_str());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return json_answer(200, b.GetString());
  }
  const std::optional<std::string> name = percent_decode(rest.substr(1));
  const auto table = std::find_if(all.begin(), all.end(), [&](const auto& t) { return name && t.name == *name; });
  if (table == all.end()) {
    std::string names;
    for (const auto& t : all) names += (names.empty() ? "" : ", ") + t.name;
    w.StartObject();
    w.Key("message");
    const std::string message = "No table " + (name ? *name : std::string(rest.substr(1))) +
                                (names.empty() ? "; the API declares no tables" : "; the tables are " + names);
    w.String(message.c_str());
    w.EndObject();
    return json_answer(404, b.GetString());
  }
  rapidjson::Document request(rapidjson::kObjectType);
  request.AddMember("TableName", rapidjson::Value(table->name.c_str(), request.GetAllocator()), request.GetAllocator());
  request.AddMember("Limit", kMostItems, request.GetAllocator());
  apigw::dynamo_result scanned = store_.call("Scan", request);
  if (!scanned.ok()) return json_answer(500, scanned.to_json());
  const auto& page = scanned.body();
  w.StartObject();
  w.Key("table");
  w.String(table->name.c_str());
  w.Key("keySchema");
  w.String(store::describe_keys(*table).c_str());
  w.Key("count");
  w.Int64(page["Count"].GetInt64());
  w.Key("more");  // true: the table holds more than the items shown
  w.Bool(page.HasMember("LastEvaluatedKey"));
  w.Key("items");
  page["Items"].Accept(w);
  w.EndObject();
  return json_answer(200, b.GetString());
}

}  // namespace apigw::emulator
