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
#include "emulator/connection_registry.hpp"
#include "emulator/http_answer.hpp"
#include "emulator/sigv4.hpp"
#include "routes/connections_api.hpp"
#include "routes/iam_policy.hpp"

namespace apigw::emulator {

class management_api final : public routes::connections_api {
 public:
  management_api(connection_registry& registry, const config::api_spec& api);

  routes::management_result post_to_connection(std::string_view connection_id, std::string_view data) override;
  routes::management_result get_connection(std::string_view connection_id,
                                           routes::connection_description* out) override;
  routes::management_result delete_connection(std::string_view connection_id) override;

  // True when TARGET's path is a management path ("/@connections/…", "/STAGE/@connections/…",
  // with "@" possibly sent as "%40").
  static bool is_management_target(std::string_view target);

  // An HTTP call as it arrived (headers included), checked against its signature at NOW when the
  // API requires signed management calls. REQUIRES: is_management_target(request.target).
  http_answer handle_http(const sigv4::request_view& request, std::chrono::system_clock::time_point now);

  // The same without headers, at the current time. REQUIRES: is_management_target(target).
  http_answer handle_http(std::string_view method, std::string_view target, std::string_view body);

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
  const std::vector<config::credential_spec> credentials_;
  // The parsed policy of each credential, in the same order; null when it did not parse, and
  // then the key may do nothing, as an IAM user without policies.
  std::vector<std::shared_ptr<const routes::iam_policy>> policies_;
};

}  // namespace apigw::emulator
