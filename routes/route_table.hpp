// The API's routes and how a message chooses one: the selection expression, evaluated on the
// message, names a route key; a message that is empty, not JSON, or names no route goes to
// $default, and without $default it is Forbidden (docs/route-selection.md).
// Thread-safety: immutable once built; every const member is safe from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "apigw/connections_api.hpp"
#include "apigw/handler.hpp"
#include "apigw/tables_api.hpp"
#include "routes/selection_expression.hpp"

namespace apigw::routes {

// What of the event a route's handler reads; the gateway builds only that.
enum class event_use {
  whole,    // the Lambda proxy event, as AWS sends it (every handler but the ones below)
  body,     // the message body alone: the built-in echo
  nothing,  // an empty object: the built-in mock, whose answer is canned
};

// One route and the integration it runs.
struct route {
  std::string key;
  std::string integration;  // its name in the config: the "function" in logs and ARNs
  bool two_way = false;     // a route response sends the integration's body back
  std::unique_ptr<apigw::handler> handler;
  event_use reads = event_use::whole;
  // The handler is a Lambda function's (emulator/integrations/invocation.hpp): it is started, and
  // answers later. Found once, when the route is made.
  bool answers_later = false;
  // What the handler may reach, through its integration's IAM policy; null when unavailable.
  std::unique_ptr<apigw::connections_api> connections;
  std::unique_ptr<apigw::tables_api> tables;
};

// Why a message goes where it goes.
struct selection {
  bool json = false;      // false: the message is empty or not JSON, so it goes to $default
  std::string key;        // what the expression evaluated to (empty when !json)
  const route* chosen = nullptr;  // null: no route, the client gets "Forbidden"
};

class route_table {
 public:
  explicit route_table(selection_expression expression);
  route_table(route_table&&) = default;
  route_table& operator=(route_table&&) = default;

  // Adds R; false (and R is dropped) when its key is taken.
  bool add(std::unique_ptr<route> r);

  // Route selection for one message.
  selection resolve(std::string_view message) const;

  const route* connect() const { return connect_; }
  const route* disconnect() const { return disconnect_; }
  const route* find(std::string_view key) const;
  const std::vector<std::unique_ptr<route>>& routes() const { return routes_; }
  const selection_expression& expression() const { return expression_; }

 private:
  // Gives S, a JSON message's selection, the route its key names (if a message may take it); S is
  // changed where it is, so that the key is not moved again.
  void choose(selection& s) const;

  // Tables of up to this many routes are searched by comparing keys, larger ones by hash.
  static constexpr std::size_t kComparedRoutes = 8;
  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  selection_expression expression_;
  // The expression is one path of member names ("$request.body.action"): a message is read
  // along it, without a document.
  bool member_path_only_ = false;
  std::vector<std::unique_ptr<route>> routes_;
  std::unordered_map<std::string, const route*, key_hash, std::equal_to<>> by_key_;
  const route* connect_ = nullptr;
  const route* disconnect_ = nullptr;
  const route* default_ = nullptr;
};

}  // namespace apigw::routes
