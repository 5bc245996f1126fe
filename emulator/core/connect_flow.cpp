#include "emulator/core/connect_flow.hpp"

#include <memory>
#include <optional>
#include <utility>

#include "emulator/auth/sigv4.hpp"

namespace apigw::emulator {

connect_flow::connect_flow(const flow_context& ctx, integration_runner& runner,
                           std::shared_ptr<const connection_info> info, handshake request)
    : ctx_(ctx), runner_(runner), info_(std::move(info)), request_(std::move(request)),
      ids_(gateway::new_request(false)) {}

trace_record connect_flow::new_record() const {
  trace_record r;
  r.time = std::chrono::system_clock::now();
  r.event_type = "CONNECT";
  r.connection = info_;
  r.request_id = ids_.request_id;
  return r;
}

// What authorization establishes goes into a completed copy of the connection's info, published
// before the connection opens (nobody else reads it before).
template <class Change>
void connect_flow::complete_info(Change change) {
  auto completed = std::make_shared<connection_info>(*info_);
  change(*completed);
  info_ = std::move(completed);
}

template <class Change>
void connect_flow::grant(Change change) {
  complete_info([&](connection_info& c) {
    auto grants = c.grants ? std::make_shared<connection_grants>(*c.grants) : std::make_shared<connection_grants>();
    change(*grants);
    c.grants = std::move(grants);
  });
}

void connect_flow::finish(connect_result r) {
  r.info = info_;
  auto done = std::move(done_);
  done(std::move(r));
}

void connect_flow::refuse(int status, std::string error, double latency_ms) {
  connect_result r;
  r.status = status;
  r.record = new_record();
  r.record.route_key = "$connect";
  r.record.status = status;
  r.record.error = std::move(error);
  r.record.latency_ms = latency_ms;
  finish(std::move(r));
}

void connect_flow::start(std::function<void(connect_result)> done) {
  done_ = std::move(done);
  // Stage throttling takes a token for every handshake, before anything else runs.
  if (ctx_.connect_throttle && !ctx_.connect_throttle->try_take()) return refuse(429, "Too Many Requests");
  if (ctx_.gw.connect_route() == nullptr) {
    // No $connect route: accepted without authorization (only $connect takes any).
    connect_result r;
    r.record = new_record();
    r.record.status = 101;
    return finish(std::move(r));
  }
  const auto& auth = ctx_.gw.authorization();
  switch (auth.type()) {
    case authorization_type::none:
      return check_api_key();
    case authorization_type::aws_iam: {
      sigv4::request_view view;
      view.method = request_.method;
      view.target = request_.target;
      for (const auto& [name, value] : request_.headers) view.headers.emplace_back(name, value);
      const auto verdict = sigv4::verify(view, ctx_.gw.api().credentials, ctx_.gw.api().region, request_.received);
      auto judged = auth.judge_signature(verdict);
      if (judged.status != 0) return refuse(judged.status, std::move(judged.error));
      grant([&](connection_grants& g) { g.iam = std::move(judged.iam); });
      return check_api_key();
    }
    case authorization_type::custom:
      return authorize_with_authorizer();
  }
}

void connect_flow::authorize_with_authorizer() {
  const auto& auth = ctx_.gw.authorization();
  if (const auto* missing = auth.missing_identity_source(*info_, request_.headers, ids_)) {
    // AWS answers 401 without invoking the authorizer.
    return refuse(401, "identity source missing or empty: " + missing->text);
  }
  // The authorizer's event in an invocation of its own: a timed-out authorizer may still read it.
  using authorizer_call = invocation_with<authorization_outcome>;
  auto call = make_call<authorizer_call>(
      [&auth](std::shared_ptr<authorizer_call> state, completion complete) {
        state->result = auth.authorize(state->call.event, state->call.ids.request_id);
        complete();
      },
      [self = shared_from_this()](authorizer_call& state, bool timed_out) {
        // After a timeout the authorizer may still be writing its answer: it is not read.
        self->on_authorizer(timed_out ? authorization_outcome{} : state.result, timed_out);
      });
  authorizer_call& state = call->state();
  state.call.connection = info_;
  state.call.ids = ids_;
  state.call.headers = request_.headers;
  ctx_.gw.events().authorizer_event(state.call.event, *info_, state.call.headers, state.call.ids);
  runner_.run(auth.authorizer()->may_block(), std::move(call));
}

void connect_flow::on_authorizer(const authorization_outcome& o, bool timed_out) {
  if (timed_out) return refuse(500, "authorizer timed out", ctx_.timeout_ms());
  if (o.status != 0) return refuse(o.status, o.error, o.latency_ms);
  grant([&](connection_grants& g) { g.authorizer = o.grant; });
  check_api_key();
}

void connect_flow::check_api_key() {
  const auto& auth = ctx_.gw.authorization();
  if (auth.api_key_required()) {
    std::optional<std::string> key = api_key_of(request_.headers);
    if (!auth.accepts_api_key(key)) {
      return refuse(403, key && !key->empty() ? "API key not accepted" : "API key missing");
    }
    grant([&](connection_grants& g) { g.api_key = std::move(key); });
  }
  run_connect();
}

void connect_flow::run_connect() {
  const gateway::route& r = *ctx_.gw.connect_route();
  using connect_call = invocation_with<outcome>;
  auto done = [self = shared_from_this()](connect_call& state, bool timed_out) {
    // After a timeout the work may still be writing its result: it is not read.
    self->on_connect(timed_out ? outcome{} : state.result, timed_out);
  };
  const auto fill = [&](connect_call& state, bool) {
    state.call.connection = info_;
    state.call.ids = ids_;
    state.call.headers = std::move(request_.headers);
    // A CONNECT event has no body: a handler that reads no more than that gets {}.
    if (r.reads == routes::event_use::whole) {
      ctx_.gw.events().connect_event(state.call.event, *info_, state.call.headers, state.call.ids);
    } else {
      event_builder::partial_event(state.call.event, std::nullopt);
    }
  };
  ctx_.gw.run_call<connect_call>(runner_, r, std::move(done), fill);
}

void connect_flow::on_connect(const outcome& o, bool timed_out) {
  auto decision = gateway::decide_connect(o);
  if (ctx_.is_stopping()) {
    decision = {503, std::nullopt};
  } else if (timed_out) {
    decision = {504, std::nullopt};
  }
  connect_result r;
  r.status = decision.status;
  r.subprotocol = std::move(decision.subprotocol);
  r.record = new_record();
  r.record.route_key = "$connect";
  r.record.integration = ctx_.gw.connect_route()->integration;
  r.record.latency_ms = timed_out ? ctx_.timeout_ms() : o.latency_ms;
  r.record.status = decision.status;
  if (timed_out) r.record.error = "Endpoint request timed out";
  if (!timed_out && o.function) {
    r.record.cold_start = o.function->cold;
    r.record.function_request_id = o.function->request_id;
    if (!o.function->error_type.empty()) r.record.function_error = o.function->error_type;
  }
  finish(std::move(r));
}

}  // namespace apigw::emulator
