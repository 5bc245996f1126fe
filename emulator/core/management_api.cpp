#include "emulator/core/management_api.hpp"
#include "emulator/auth/arn.hpp"
#include "emulator/auth/authorization.hpp"

#include <variant>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/ascii.hpp"
#include "emulator/core/identifiers.hpp"
#include "emulator/auth/percent_decoding.hpp"
#include "emulator/auth/permissions.hpp"

namespace apigw::emulator {

namespace {

apigw::management_result gone() {
  // AWS answers Gone without a message; SDKs surface the error type alone.
  return {410, "GoneException", ""};
}

std::vector<std::string_view> split_path(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    if (path.front() == '/') path.remove_prefix(1);
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  }
  return segments;
}

bool is_connections_segment(std::string_view s) {
  return s == "@connections" || s == "%40connections";
}

std::string json_message(std::string_view message) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  w.Key("message");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return b.GetString();
}

http_answer error_answer(int status, std::string_view type, std::string_view message) {
  http_answer answer;
  answer.status = status;
  answer.headers = {{"Content-Type", "application/json"}, {"x-amzn-ErrorType", std::string(type)}};
  answer.body = json_message(message);
  return answer;
}

}  // namespace

management_api::management_api(connection_registry& registry, const config::api_spec& api)
    : registry_(registry),
      stage_(api.stage.name),
      max_data_bytes_(api.limits.max_message_bytes),
      require_signed_(api.require_signed_management_calls),
      region_(api.region),
      arn_prefix_(execute_api_arn_prefix(api)),
      credentials_(api.credentials) {
  // A policy that does not parse leaves the key without any: it may do nothing, as an IAM user
  // without policies (the server refuses such a configuration before it serves).
  if (auto policies = parse_credential_policies(api)) policies_ = std::move(*policies);
  policies_.resize(credentials_.size(), emulator::iam_policy{});
  first_function_signer_ = credentials_.size();
}

void management_api::add_function_signer(config::credential_spec key, const emulator::iam_policy* policy) {
  credentials_.push_back(std::move(key));
  if (policy != nullptr) {
    policies_.push_back(*policy);
  } else {
    rapidjson::Document everything;
    everything.Parse(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})");
    policies_.push_back(*emulator::iam_policy::parse(everything));
  }
}

bool management_api::signed_by_function(const sigv4::request_view& request) const {
  for (const auto& [name, value] : request.headers) {
    if (!iequals(name, "Authorization")) continue;
    for (std::size_t i = first_function_signer_; i < credentials_.size(); ++i) {
      if (value.find("Credential=" + credentials_[i].access_key_id + "/") != std::string_view::npos) return true;
    }
  }
  return false;
}

apigw::management_result management_api::post_to_connection(std::string_view connection_id,
                                                              std::string_view data) {
  if (data.size() > max_data_bytes_) {
    return {413, "PayloadTooLargeException",
            "Message too long. The maximum size is " + std::to_string(max_data_bytes_) + " bytes."};
  }
  auto c = registry_.find(connection_id);
  if (!c || !c->is_open()) return gone();
  c->send(std::string(data), false);
  return {};
}

apigw::management_result management_api::get_connection(std::string_view connection_id,
                                                         apigw::connection_description* out) {
  auto c = registry_.find(connection_id);
  if (!c || !c->is_open()) return gone();
  const connection_info& info = c->info();
  out->connected_at = iso8601_millis(info.connected_at);
  out->last_active_at = iso8601_millis(c->last_active());
  out->source_ip = info.source_ip;
  out->user_agent = info.user_agent;
  return {};
}

apigw::management_result management_api::delete_connection(std::string_view connection_id) {
  auto c = registry_.find(connection_id);
  if (!c || !c->is_open()) return gone();
  c->close(1000, "");
  return {204, "", ""};
}

bool management_api::is_management_target(std::string_view target) {
  // The first two segments, as split_path() cuts them, without making the list: every request
  // the server reads, handshakes included, asks this.
  std::string_view path = target.substr(0, target.find('?'));
  for (int i = 0; i < 2 && !path.empty(); ++i) {
    if (path.front() == '/') path.remove_prefix(1);
    const auto slash = path.find('/');
    if (is_connections_segment(path.substr(0, slash))) return true;
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  }
  return false;
}

std::optional<http_answer> management_api::denied(const config::credential_spec& signer, std::string_view method,
                                                  std::string_view id) const {
  const auto index = static_cast<std::size_t>(&signer - credentials_.data());
  const std::string resource = connections_arn(arn_prefix_, method, id);
  const auto decision = index < policies_.size() ? policies_[index].evaluate("execute-api:ManageConnections", resource)
                                                 : emulator::iam_policy::decision::implicit_deny;
  if (decision == emulator::iam_policy::decision::allow) return std::nullopt;
  // IAM's wording; an explicit Deny says so.
  std::string message = "User: " + signer.arn +
                        " is not authorized to perform: execute-api:ManageConnections on resource: " + resource;
  if (decision == emulator::iam_policy::decision::explicit_deny) message += " with an explicit deny";
  return error_answer(403, "AccessDeniedException", message);
}

http_answer management_api::handle_http(std::string_view method, std::string_view target, std::string_view body) {
  return handle_http(sigv4::request_view{method, target, {}, body}, std::chrono::system_clock::now());
}

http_answer management_api::handle_http(const sigv4::request_view& request,
                                        std::chrono::system_clock::time_point now) {
  // AWS's request id and API Gateway's own id go on every answer, success or error: SDKs show
  // the first as the call's request id.
  http_answer answer = answer_http(request, now);
  const std::string request_id = new_request_uuid();
  answer.headers.emplace_back("x-amzn-RequestId", request_id);
  answer.headers.emplace_back("x-amz-apigw-id", new_identifier());
  if (trace_) trace_call(request, answer, request_id);
  return answer;
}

// A MANAGEMENT record: the call, the connection it named (as the client knows it, also when it is
// gone), the status and AWS's error type.
void management_api::trace_call(const sigv4::request_view& request, const http_answer& answer,
                                const std::string& request_id) {
  const auto segments = split_path(request.target);
  std::string id;
  if (!segments.empty()) {
    const std::size_t at = is_connections_segment(segments[0]) ? 0 : 1;
    if (segments.size() > at + 1) id = percent_decode(segments[at + 1]).value_or(std::string(segments[at + 1]));
  }
  std::shared_ptr<const connection_info> info;
  if (auto c = registry_.find(id)) info = std::make_shared<connection_info>(c->info());
  if (!info) {
    auto unknown = std::make_shared<connection_info>();
    unknown->id = id;
    info = std::move(unknown);
  }
  trace_record r;
  r.time = std::chrono::system_clock::now();
  r.event_type = "MANAGEMENT";
  r.connection = std::move(info);
  r.request_id = request_id;
  r.call = std::string(request.method);
  r.status = answer.status;
  for (const auto& [name, value] : answer.headers) {
    if (name == "x-amzn-ErrorType") r.error = value;
  }
  if (request.method == "POST") r.bytes = request.body.size();
  trace_->record(std::move(r));
}

http_answer management_api::answer_http(const sigv4::request_view& request,
                                        std::chrono::system_clock::time_point now) {
  const std::string_view method = request.method;
  const std::string_view target = request.target;
  const std::string_view body = request.body;
  http_answer answer;
  const auto fail = [&](int status, std::string_view type, std::string_view message) {
    answer = error_answer(status, type, message);
    return answer;
  };
  // Who calls, first: an unsigned or badly signed call learns nothing else.
  const config::credential_spec* signer = nullptr;
  if (require_signed_ || signed_by_function(request)) {
    sigv4::verdict verdict = sigv4::verify(request, credentials_, region_, now);
    if (!verdict.ok()) return fail(403, verdict.error_type, verdict.error);
    signer = verdict.signer;
  }
  const auto segments = split_path(target);
  const std::size_t at = is_connections_segment(segments[0]) ? 0 : 1;
  if (at == 1 && segments[0] != stage_) {
    return fail(404, "NotFoundException",
                "Stage \"" + std::string(segments[0]) + "\" does not exist; this API's stage is \"" + stage_ + "\"");
  }
  if (segments.size() != at + 2 || segments[at + 1].empty()) {
    return fail(404, "NotFoundException",
                "Expected /" + stage_ + "/@connections/{connectionId} or /@connections/{connectionId}");
  }
  const auto id = percent_decode(segments[at + 1]);
  if (!id) return fail(400, "BadRequestException", "The connection id is not validly percent-encoded");

  if (method != "POST" && method != "GET" && method != "DELETE") {
    answer = fail(405, "MethodNotAllowedException",
                  "Method " + std::string(method) + " is not allowed; use POST, GET or DELETE");
    answer.headers.emplace_back("Allow", "POST, GET, DELETE");
    return answer;
  }
  if (signer) {
    if (auto refusal = denied(*signer, method, *id)) return std::move(*refusal);
  }

  apigw::management_result result;
  apigw::connection_description description;
  if (method == "POST") {
    result = post_to_connection(*id, body);
  } else if (method == "GET") {
    result = get_connection(*id, &description);
  } else {
    result = delete_connection(*id);
  }
  if (!result.ok()) {
    answer.status = result.status;
    answer.headers = {{"x-amzn-ErrorType", result.error_type}};
    if (!result.message.empty()) {
      answer.headers.emplace_back("Content-Type", "application/json");
      answer.body = json_message(result.message);
    }
    return answer;
  }
  answer.status = result.status;
  if (method == "GET") {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.StartObject();
    w.Key("connectedAt");
    w.String(description.connected_at.c_str());
    w.Key("identity");
    w.StartObject();
    w.Key("sourceIp");
    w.String(description.source_ip.c_str());
    if (description.user_agent) {
      w.Key("userAgent");
      w.String(description.user_agent->c_str());
    }
    w.EndObject();
    w.Key("lastActiveAt");
    w.String(description.last_active_at.c_str());
    w.EndObject();
    answer.headers = {{"Content-Type", "application/json"}};
    answer.body = b.GetString();
  }
  return answer;
}

}  // namespace apigw::emulator
