// The heart of the emulator without any I/O: given a connection and a message it selects the
// route, builds the Lambda proxy event, runs the integration and says what goes back.
// Thread-safety: immutable after create(); every member is const and safe from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include <rapidjson/document.h>

#include "apigw/handler.hpp"
#include "apigw/handler_registry.hpp"
#include "common/result.hpp"
#include "config/api_config.hpp"
#include "emulator/auth/authorization.hpp"
#include "emulator/auth/connection_info.hpp"
#include "emulator/core/events.hpp"
#include "emulator/core/integration_runner.hpp"
#include "emulator/integrations/invocation.hpp"
#include "routes/route_table.hpp"
#include "store/session_store.hpp"

namespace apigw::emulator {

// The compiled API: built once at start-up from the configuration, it holds the route table
// (routes/route_table.hpp), $connect's authorization (emulator/auth/authorization.hpp), the event
// builder (events.hpp) and the services handlers reach, and decides what goes back to a client.
// Nothing here re-parses configuration at run time.
class gateway {
 public:
  using route = routes::route;
  using selection = routes::selection;
  using outcome = emulator::outcome;
  using authorization_outcome = emulator::authorization_outcome;
  using request_ids = emulator::request_ids;

  // What handlers reach; every member may be null (then handlers go without it).
  struct services {
    apigw::connections_api* connections = nullptr;
    store::session_store* store = nullptr;
    apigw::invocation_log* log = nullptr;
    // Makes the handler of a "lambda" integration (by its name); unset: such an API is refused.
    std::function<std::unique_ptr<apigw::handler>(const std::string& integration)> make_function;
    // The same for an authorizer that names a "lambda" integration as its "function".
    emulator::authorization::function_authorizer_maker make_function_authorizer;
  };

  // Builds the route table: every handler is created with its options, every policy parsed, the
  // selection expression parsed. The error names the file and JSON path of what is wrong.
  static result<std::unique_ptr<gateway>> create(const config::api_spec& api,
                                                 const apigw::handler_registry& registry, services s);
  // Without services: handlers reach no management API, tables or log (unit tests).
  static result<std::unique_ptr<gateway>> create(const config::api_spec& api,
                                                 const apigw::handler_registry& registry) {
    return create(api, registry, services{});
  }

  const config::api_spec& api() const { return api_; }
  const routes::route_table& table() const { return table_; }
  const emulator::authorization& authorization() const { return *authorization_; }
  const event_builder& events() const { return events_; }
  apigw::invocation_log* log() const { return log_; }

  const route* connect_route() const { return table_.connect(); }
  const route* disconnect_route() const { return table_.disconnect(); }
  // Route selection for one message: the route, or nullptr when the client gets "Forbidden".
  const route* select(std::string_view message) const { return table_.resolve(message).chosen; }
  selection resolve(std::string_view message) const { return table_.resolve(message); }
  const routes::selection_expression& expression() const { return table_.expression(); }
  const std::vector<std::unique_ptr<route>>& routes() const { return table_.routes(); }

  // New ids for one request; a message_id too when WITH_MESSAGE_ID.
  static request_ids new_request(bool with_message_id);

  // Runs route R's integration with its context, written to the function's log stream like a
  // Lambda invocation (START, errors, END, REPORT), answered through DONE: at once for an
  // in-process handler, later (from another thread) for a Lambda function, with no thread
  // waiting for it.
  template <class Done>
  void start(const route& r, const rapidjson::Value& event, std::string_view request_id, Done&& done) const {
    start_route(r, event, request_id, log_, std::forward<Done>(done));
  }

  // The start of an integration call that runs route R on its state's event, for make_call()
  // (whose work shares the state) or a call_in_place (whose work points at it): the outcome is in
  // the state's result when the call completes.
  auto route_work(const route& r) const {
    return [this, &r](auto state, completion complete) {
      const invocation& call = state->call;
      start(r, call.event, call.ids.request_id, [state = std::move(state), complete = std::move(complete)](outcome o) {
        state->result = std::move(o);
        complete();
      });
    };
  }

  // Runs a call of route R through RUNNER: FILL(State&, bool in_place) fills its state (an
  // invocation_with<outcome>, and whatever the flow keeps with it), DONE(State&, bool timed_out)
  // ends it. The call is made in place (on this stack: integration_runner::run_here()) when R's
  // handler answers while it starts, as an in-process handler that cannot block does; else it is
  // shared (run()), for a handler that may block or a function whose answer comes later, either
  // of which may still read the state after this returns.
  template <class State, class Done, class Fill>
  void run_call(integration_runner& runner, const route& r, Done done, Fill fill) const {
    const bool may_block = r.handler->may_block();
    if (!may_block && !r.answers_later) {
      call_in_place<State, decltype(route_work(r)), Done> call(route_work(r), std::move(done));
      fill(call.state(), true);
      runner.run_here(call);
      return;
    }
    auto call = make_call<State>(route_work(r), std::move(done));
    fill(call->state(), false);
    runner.run(may_block, std::move(call));
  }

  // What goes back to the client after a message route's integration (whose body O gives up).
  struct reply {
    bool send = false;
    bool binary = false;
    std::string data;
  };
  static reply message_reply(const route& r, outcome&& o, const connection_info& info,
                             const request_ids& ids);

  // The gateway's own error frames, byte for byte as AWS sends them:
  // {"message": "Forbidden", "connectionId":"…", "requestId":"…"}
  static std::string error_frame(std::string_view message, std::string_view connection_id,
                                 std::string_view request_id);

  // The answer to a handshake once $connect's integration is done: 101 with an optional
  // subprotocol, or an HTTP status.
  struct connect_decision {
    int status = 101;
    std::optional<std::string> subprotocol;
  };
  static connect_decision decide_connect(const outcome& o);

  // The reason $disconnect reports for a close code when the close frame carried none.
  static std::string_view standard_close_reason(int code);

 private:
  gateway(config::api_spec api, routes::route_table table);

  config::api_spec api_;
  routes::route_table table_;
  std::unique_ptr<emulator::authorization> authorization_;
  event_builder events_;
  apigw::invocation_log* log_ = nullptr;
};

}  // namespace apigw::emulator
