// The @connections management API: PostToConnection, GetConnection, DeleteConnection, for handlers
// in-process and, through handle_http(), for SDKs and curl on the emulator's own port; with
// "requireSignedManagementCalls", HTTP calls must be SigV4-signed by a configured credential whose
// policy allows execute-api:ManageConnections on the call's ARN.
// Thread-safety: safe from any thread; it only reads the registry and queues work on sessions.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/api_config.hpp"
#include "emulator/core/connection_registry.hpp"
#include "emulator/core/http_answer.hpp"
#include "emulator/auth/sigv4.hpp"
#include "apigw/connections_api.hpp"
#include "emulator/auth/iam_policy.hpp"
#include "emulator/core/tracer.hpp"

namespace apigw::emulator {

class management_api final : public apigw::connections_api {
 public:
  management_api(connection_registry& registry, const config::api_spec& api);

  apigw::management_result post_to_connection(std::string_view connection_id, std::string_view data) override;
  apigw::management_result get_connection(std::string_view connection_id,
                                           apigw::connection_description* out) override;
  apigw::management_result delete_connection(std::string_view connection_id) override;

  // True when TARGET's path is a management path ("/@connections/…", "/STAGE/@connections/…",
  // with "@" possibly sent as "%40").
  static bool is_management_target(std::string_view target);

  // An HTTP call as it arrived (headers included), checked against its signature at NOW when the
  // API requires signed management calls. REQUIRES: is_management_target(request.target).
  http_answer handle_http(const sigv4::request_view& request, std::chrono::system_clock::time_point now);

  // The same without headers, at the current time. REQUIRES: is_management_target(target).
  http_answer handle_http(std::string_view method, std::string_view target, std::string_view body);

  // Every call answered over HTTP goes into the routing trace from now on (MANAGEMENT records).
  // REQUIRES: before the first call; TRACE outlives this.
  void set_tracer(tracer* trace) { trace_ = trace; }

  // A key a Lambda function's processes sign their calls with: a call signed with it is judged by
  // POLICY (the function's execution role; null: it may do everything), whether or not the API
  // requires signed calls. REQUIRES: before the first call.
  void add_function_signer(config::credential_spec key, const emulator::iam_policy* policy);

 private:
  // Empty when the verified SIGNER's policy allows METHOD on connection ID; else AWS's 403.
  std::optional<http_answer> denied(const config::credential_spec& signer, std::string_view method,
                                    std::string_view id) const;

  connection_registry& registry_;
  const std::string stage_;
  const std::size_t max_data_bytes_;
  const bool require_signed_;
  const std::string region_;
  const std::string arn_prefix_;  // arn:aws:execute-api:REGION:ACCOUNT:APIID/STAGE/
  tracer* trace_ = nullptr;
  // The API's credentials, then the functions' keys from first_function_signer_ on.
  std::vector<config::credential_spec> credentials_;
  std::size_t first_function_signer_ = 0;
  // The parsed policy of each credential, in the same order (parse_credential_policies).
  std::vector<emulator::iam_policy> policies_;

  void trace_call(const sigv4::request_view& request, const http_answer& answer, const std::string& request_id);

  // handle_http() without the ids every answer carries.
  http_answer answer_http(const sigv4::request_view& request, std::chrono::system_clock::time_point now);

  // True when REQUEST is signed (Authorization header) with one of the functions' keys.
  bool signed_by_function(const sigv4::request_view& request) const;
};

}  // namespace apigw::emulator
