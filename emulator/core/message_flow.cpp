#include "emulator/core/message_flow.hpp"

#include <utility>

namespace apigw::emulator {
namespace {

// Starts R, a record of EVENT_TYPE on connection INFO, at the time of the request it was given.
void begin_record(trace_record& r, const char* event_type, const std::shared_ptr<const connection_info>& info,
                  const gateway::request_ids& ids) {
  r.time = ids.time;
  r.event_type = event_type;
  r.connection = info;
}

// The same, with the request's id.
trace_record new_record(const char* event_type, const std::shared_ptr<const connection_info>& info,
                        const gateway::request_ids& ids) {
  trace_record r;
  begin_record(r, event_type, info, ids);
  r.request_id = ids.request_id;
  return r;
}

// Completes R with route ROUTE (null: none) and the integration's outcome O (null: none ran).
void complete(trace_record& r, const gateway::route* route, const outcome* o, bool timed_out, double timeout_ms) {
  if (route) {
    r.route_key = route->key;
    r.integration = route->integration;
  }
  if (timed_out) {
    r.latency_ms = timeout_ms;
    r.status = 504;
    r.error = "Endpoint request timed out";
  } else if (o) {
    r.latency_ms = o->latency_ms;
    if (o->function) {
      r.cold_start = o->function->cold;
      r.function_request_id = o->function->request_id;
      if (!o->function->error_type.empty()) r.function_error = o->function->error_type;
    }
    if (o->failed) {
      r.status = 500;
      r.error = "Internal server error";
    } else {
      r.status = o->result.status_code;
    }
  }
}

}  // namespace

void message_flow::on_message(const std::shared_ptr<const connection_info>& info, std::string_view body) {
  // Stage throttling, when the stage sets it: one token a message, taken before routing.
  if (ctx_.message_throttle && !ctx_.message_throttle->try_take()) {
    auto ids = gateway::new_request(true);
    auto record = new_record("MESSAGE", info, ids);
    record.message_id = ids.message_id;
    record.bytes = body.size();
    record.why = "throttled";
    record.status = 429;
    record.error = "Too Many Requests";
    ctx_.trace.record(std::move(record));
    sink_.deliver(gateway::error_frame("Too Many Requests", info->id, ids.request_id), false);
    return;
  }
  gateway::selection chosen = ctx_.gw.resolve(body);
  const gateway::route* r = chosen.chosen;
  auto ids = gateway::new_request(true);
  // What the record says of every routed or refused message: its size, what the expression gave
  // (moved into the record: its last use).
  const auto begin_message_record = [&](trace_record& record) {
    begin_record(record, "MESSAGE", info, ids);
    record.bytes = body.size();
    if (chosen.json) record.selection = std::move(chosen.key);
  };
  if (r == nullptr) {
    trace_record record;
    begin_message_record(record);
    record.why = "no route";
    record.status = 403;
    record.error = "Forbidden";
    auto frame = gateway::error_frame("Forbidden", info->id, ids.request_id);
    record.request_id = std::move(ids.request_id);
    record.message_id = std::move(ids.message_id);
    ctx_.trace.record(std::move(record));
    sink_.deliver(std::move(frame), false);
    return;
  }
  // The call's state holds its trace record too: filled where it is, moved once, into the trace.
  struct message_call : invocation_with<outcome> {
    trace_record record;
  };
  auto done = [flow = *this, r](message_call& state, bool timed_out) {
    trace_record& record = state.record;
    const connection_info& info = *state.call.connection;
    complete(record, r, timed_out ? nullptr : &state.result, timed_out, flow.ctx_.timeout_ms());
    if (timed_out) {
      // The call may still be reading its ids: the record gets copies.
      record.request_id = state.call.ids.request_id;
      record.message_id = state.call.ids.message_id;
      flow.ctx_.trace.record(std::move(record));
      flow.sink_.deliver(gateway::error_frame("Endpoint request timed out", info.id, state.call.ids.request_id),
                         false);
      return;
    }
    auto reply = gateway::message_reply(*r, std::move(state.result), info, state.call.ids);
    record.request_id = std::move(state.call.ids.request_id);
    record.message_id = std::move(state.call.ids.message_id);
    flow.ctx_.trace.record(std::move(record));
    if (reply.send) flow.sink_.deliver(std::move(reply.data), reply.binary);
  };
  const auto fill = [&](message_call& state, bool in_place) {
    state.record.why = chosen.json && r->key == chosen.key ? "exact match" : "fell back to $default";
    begin_message_record(state.record);
    state.call.connection = info;
    state.call.ids = std::move(ids);
    // A call in place is over before this returns: it reads the body where the session read it.
    if (in_place) {
      state.call.text = body;
    } else {
      state.call.keep_text(body);
    }
    if (r->reads == routes::event_use::whole) {
      ctx_.gw.events().message_event(state.call.event, *info, r->key, state.call.ids, state.call.text);
    } else {
      event_builder::partial_event(state.call.event, r->reads == routes::event_use::body
                                                         ? std::optional<std::string_view>(state.call.text)
                                                         : std::nullopt);
    }
  };
  ctx_.gw.run_call<message_call>(runner_, *r, std::move(done), fill);
}

void message_flow::on_disconnect(const std::shared_ptr<const connection_info>& info, int code,
                                 std::optional<std::string> reason, std::function<void()> done) {
  const gateway::route* r = ctx_.gw.disconnect_route();
  request_ids ids = gateway::new_request(false);
  std::string text = reason ? std::move(*reason) : std::string(gateway::standard_close_reason(code));
  if (r == nullptr) {
    auto record = new_record("DISCONNECT", info, ids);
    record.close_code = code;
    record.close_reason = std::move(text);
    ctx_.trace.record(std::move(record));
    done();
    return;
  }
  struct disconnect_call : invocation_with<outcome> {
    trace_record record;
  };
  auto finished = [flow = *this, r, done = std::move(done)](disconnect_call& state, bool timed_out) {
    complete(state.record, r, timed_out ? nullptr : &state.result, timed_out, flow.ctx_.timeout_ms());
    flow.ctx_.trace.record(std::move(state.record));
    done();
  };
  const auto fill = [&](disconnect_call& state, bool) {
    begin_record(state.record, "DISCONNECT", info, ids);
    state.record.request_id = ids.request_id;
    state.record.close_code = code;
    state.record.close_reason = text;
    state.call.connection = info;
    state.call.ids = std::move(ids);
    state.call.keep_text(std::move(text));
    // A DISCONNECT event has no body: a handler that reads no more than that gets {}.
    if (r->reads == routes::event_use::whole) {
      ctx_.gw.events().disconnect_event(state.call.event, *info, state.call.ids, code, state.call.text);
    } else {
      event_builder::partial_event(state.call.event, std::nullopt);
    }
  };
  ctx_.gw.run_call<disconnect_call>(runner_, *r, std::move(finished), fill);
}

}  // namespace apigw::emulator
