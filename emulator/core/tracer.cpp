#include "emulator/core/tracer.hpp"

#include <cstdio>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "emulator/core/identifiers.hpp"
#include "emulator/core/redaction.hpp"

namespace apigw::emulator {

tracer::tracer(options o) : options_(std::move(o)) {
  if (options_.trace_writer) {
    trace_writer_ = options_.trace_writer;
  } else if (options_.trace_out) {
    own_trace_writer_ = std::make_unique<batched_writer>(*options_.trace_out);
    trace_writer_ = own_trace_writer_.get();
  }
  if (options_.access_format && options_.access_out) {
    access_writer_ = std::make_unique<batched_writer>(*options_.access_out);
  }
}

namespace {

// Masks secrets in the record's free-text fields (an error message that quotes a header, a
// client's close reason, a selection taken from a message), in place. The rule is that none names
// a secret, and then nothing is copied.
void redact(trace_record& r) {
  for (auto* field : {&r.error, &r.close_reason, &r.selection}) {
    if (*field && may_hold_secret(**field)) *field = redact_secrets(**field);
  }
}

}  // namespace

void tracer::record(trace_record&& r) {
  redact(r);
  if (trace_writer_) {
    trace_writer_->append((options_.trace_format == format::json ? to_json(r) : to_text(r)) + "\n");
  }
  // API Gateway's access log has the WebSocket events only, not @connections calls.
  if (access_writer_ && r.call == std::nullopt) {
    access_writer_->append(options_.access_format->render(r, options_.api) + "\n");
  }
  std::vector<subscriber> listeners;
  std::string json;
  {
    std::lock_guard lock(mutex_);
    if (!subscribers_.empty()) {
      listeners.reserve(subscribers_.size());
      for (const auto& [id, s] : subscribers_) listeners.push_back(s);
      json = to_json(r);
    }
    if (options_.keep > 0) {
      if (kept_.size() < options_.keep) {
        kept_.push_back(std::move(r));
      } else {
        kept_[next_ % options_.keep] = std::move(r);
      }
      ++next_;
    }
  }
  for (const auto& s : listeners) s(json);
}

std::vector<std::string> tracer::last(std::size_t n) const {
  std::vector<trace_record> records;
  {
    std::lock_guard lock(mutex_);
    const std::size_t count = std::min(n, kept_.size());
    records.reserve(count);
    for (std::uint64_t i = next_ - count; i < next_; ++i) records.push_back(kept_[i % kept_.size()]);
  }
  std::vector<std::string> out;
  out.reserve(records.size());
  for (const auto& r : records) out.push_back(to_json(r));
  return out;
}

std::uint64_t tracer::subscribe(subscriber s) {
  std::lock_guard lock(mutex_);
  const auto id = next_subscriber_++;
  subscribers_.emplace(id, std::move(s));
  return id;
}

void tracer::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  subscribers_.erase(id);
}

std::string tracer::to_json(const trace_record& r) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  const auto str = [&w](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  const auto opt = [&](const char* key, const auto& v) {
    w.Key(key);
    if (v) str(*v); else w.Null();
  };
  const auto opt_int = [&](const char* key, const std::optional<int>& v) {
    w.Key(key);
    if (v) w.Int(*v); else w.Null();
  };
  w.StartObject();
  w.Key("time");
  str(iso8601_millis(r.time));
  w.Key("eventType");
  w.String(r.event_type);
  w.Key("connectionId");
  str(r.connection->id);
  w.Key("requestId");
  str(r.request_id);
  opt("selection", r.selection);
  opt("routeKey", r.route_key);
  w.Key("why");
  if (r.why) w.String(r.why); else w.Null();
  opt("integration", r.integration);
  opt_int("status", r.status);
  opt("error", r.error);
  if (r.call) {
    w.Key("call");
    str(*r.call);
  }
  opt_int("closeCode", r.close_code);
  opt("closeReason", r.close_reason);
  w.Key("latencyMs");
  w.Double(static_cast<double>(static_cast<long long>(r.latency_ms * 100 + 0.5)) / 100);
  w.Key("bytes");
  w.Uint64(r.bytes);
  if (r.cold_start) {
    w.Key("coldStart");
    w.Bool(*r.cold_start);
  }
  if (r.function_error) {
    w.Key("functionError");
    str(*r.function_error);
  }
  if (r.function_request_id) {
    w.Key("functionRequestId");
    str(*r.function_request_id);
  }
  w.EndObject();
  return b.GetString();
}

std::string tracer::to_text(const trace_record& r) {
  std::string line = iso8601_millis(r.time);
  line += ' ';
  line += r.event_type;
  line += ' ';
  line += r.connection->id;
  line += " req=" + r.request_id;
  if (std::string_view(r.event_type) == "MESSAGE" && r.why && std::string_view(r.why) == "throttled") {
    line += " (throttled)";
  } else if (std::string_view(r.event_type) == "MESSAGE") {
    line += r.selection ? " selection=\"" + *r.selection + "\"" : std::string(" selection=(not JSON)");
  }
  if (r.call) {
    // An @connections call: what was asked of which connection, and the answer.
    line += " call=" + *r.call;
    if (r.status) line += " status=" + std::to_string(*r.status);
    if (r.error) line += " error=" + *r.error;
    if (r.bytes > 0) line += " bytes=" + std::to_string(r.bytes);
    return line;
  }
  line += " route=";
  line += r.route_key.value_or("(none)");
  if (r.why) line += std::string(" (") + r.why + ")";
  if (r.integration) {
    line += " integration=";
    line += *r.integration;
  }
  if (r.status) line += " status=" + std::to_string(*r.status);
  if (r.error) line += " error=\"" + *r.error + "\"";
  if (r.close_code) line += " close=" + std::to_string(*r.close_code) + " \"" + r.close_reason.value_or("") + "\"";
  if (std::string_view(r.event_type) == "MESSAGE") line += " bytes=" + std::to_string(r.bytes);
  if (r.integration) {
    char latency[32];
    std::snprintf(latency, sizeof latency, " latency=%.2fms", r.latency_ms);
    line += latency;
  }
  if (r.cold_start) line += *r.cold_start ? " start=cold" : " start=warm";
  if (r.function_request_id) line += " lambda_req=" + *r.function_request_id;
  if (r.function_error) line += " function_error=" + *r.function_error;
  return line;
}

}  // namespace apigw::emulator
