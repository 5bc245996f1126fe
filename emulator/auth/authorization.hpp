// $connect's authorization, compiled once from the API (docs/auth.md): the route's
// authorizationType (NONE, AWS_IAM, CUSTOM with its REQUEST authorizer and identity sources), API
// keys, and the credentials' parsed policies. Each check is a judgment without I/O; the order they
// run in is the $connect flow's (emulator/core/connect_flow.hpp).
// Thread-safety: immutable after create(); const members are safe from any thread (an authorizer
// is called concurrently, as handlers are).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "apigw/handler.hpp"
#include "apigw/handler_registry.hpp"
#include "common/result.hpp"
#include "config/api_config.hpp"
#include "emulator/auth/connection_info.hpp"
#include "emulator/auth/iam_policy.hpp"
#include "emulator/auth/sigv4.hpp"
#include "emulator/integrations/invocation.hpp"

namespace apigw::emulator {

enum class authorization_type { none, aws_iam, custom };

struct identity_source {
  enum class kind { header, query, stage_variable, context };
  kind where = kind::header;
  std::string name;  // the header, parameter, variable or context variable
  std::string text;  // as the config writes it: "route.request.querystring.token"
};

// What one check decided. status 0: the handshake goes on; else the handshake's status.
struct authorization_outcome {
  int status = 0;
  std::string error;  // why it refused, for the trace; never a secret
  std::optional<authorizer_grant> grant;
  std::optional<iam_caller> iam;
  double latency_ms = 0;
};

class authorization {
 public:
  // Builds the authorizers, parses the credentials' policies and settles $connect's
  // authorization. The error names the file and JSON path.
  // MAKE_FUNCTION makes the authorizer of an authorizer that names a "lambda" integration (it
  // writes its own log lines); unset, such an API is refused.
  using function_authorizer_maker = std::function<std::unique_ptr<apigw::authorizer>(const std::string& integration)>;
  static result<std::unique_ptr<authorization>> create(const config::api_spec& api,
                                                       const apigw::handler_registry& registry,
                                                       apigw::invocation_log* log,
                                                       const function_authorizer_maker& make_function = {});

  authorization_type type() const { return type_; }
  bool api_key_required() const { return api_key_required_; }
  // True when the handshake needs more than the $connect integration (or none) to pass.
  bool authorizes_connect() const { return type_ != authorization_type::none || api_key_required_; }
  // CUSTOM: the authorizer's name in "authorizers", the authorizer and its identity sources.
  const std::string& authorizer_name() const { return authorizer_name_; }
  apigw::authorizer* authorizer() const { return authorizer_; }
  const std::vector<identity_source>& identity_sources() const { return identity_sources_; }
  // What authorization is asked for: arn:aws:execute-api:REGION:ACCOUNT:APIID/STAGE/$connect.
  const std::string& connect_arn() const { return connect_arn_; }
  // The policy of each of the API's credentials, in their order.
  const std::vector<iam_policy>& credential_policies() const { return credential_policies_; }

  // The first identity source that the handshake lacks or has empty; null when every one is
  // there (then, and only then, the authorizer runs).
  const identity_source* missing_identity_source(const connection_info& info, const header_list& headers,
                                                 const request_ids& ids) const;

  // Runs the CUSTOM authorizer on EVENT (logged like a Lambda invocation) and judges its answer:
  // Unauthorized 401, a policy that does not allow execute-api:Invoke on connect_arn() 403,
  // any other failure or malformed answer 500, else allowed with the grant.
  authorization_outcome authorize(const rapidjson::Value& event, std::string_view request_id) const;
  // Judges an AWS_IAM handshake's signature check: 403 unless VERDICT names a signer whose
  // policy allows execute-api:Invoke on connect_arn(); then the caller's identity.
  authorization_outcome judge_signature(const sigv4::verdict& verdict) const;
  // apiKeyRequired: KEY (the x-api-key header; none when absent) is one of "apiKeys".
  bool accepts_api_key(const std::optional<std::string>& key) const;

 private:
  authorization(const config::api_spec& api, apigw::invocation_log* log);

  const config::api_spec& api_;
  apigw::invocation_log* log_;
  authorization_type type_ = authorization_type::none;
  bool api_key_required_ = false;
  std::string authorizer_name_;
  apigw::authorizer* authorizer_ = nullptr;
  bool authorizer_logs_itself_ = false;  // a Lambda function's pool writes START, END, REPORT
  std::vector<identity_source> identity_sources_;
  std::string connect_arn_;
  std::vector<iam_policy> credential_policies_;
  // Every authorizer of "authorizers" by name, built at create() so that bad ones fail early.
  std::map<std::string, std::unique_ptr<apigw::authorizer>, std::less<>> authorizers_;
};

// The policy of each of API's credentials, in their order; the error names the file and JSON path
// of a policy that does not parse. The one reading of credential policies ($connect's AWS_IAM
// and signed management calls).
result<std::vector<iam_policy>> parse_credential_policies(const config::api_spec& api);

// The x-api-key of a handshake's HEADERS (the last one when repeated); none when absent.
std::optional<std::string> api_key_of(const header_list& headers);

// requestContext.authorizer as AWS delivers it: principalId, integrationLatency, then the
// context's keys flattened. The one writer of that object (events and connection records). The
// value refers to GRANT's strings: GRANT must outlive it.
rapidjson::Value authorizer_object(const authorizer_grant& grant, rapidjson::Document::AllocatorType& a);

}  // namespace apigw::emulator
