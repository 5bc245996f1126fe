// The heart of the emulator without any I/O: given a connection and a message it selects the
// route, builds the Lambda proxy event, runs the integration and says what goes back.
// Thread-safety: immutable after create(); every member is const and safe from any thread.
#pragma once

#include <chrono>
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

#include "config/api_config.hpp"
#include "emulator/connection_info.hpp"
#include "emulator/sigv4.hpp"
#include "routes/handler.hpp"
#include "routes/handler_registry.hpp"
#include "routes/iam_policy.hpp"
#include "routes/selection_expression.hpp"
#include "store/session_store.hpp"

namespace apigw::emulator {

class gateway {
 public:
  struct route {
    std::string key;
    std::string integration;  // its name in the config: the "function" in logs and ARNs
    bool two_way = false;
    std::unique_ptr<routes::handler> handler;
    // What the handler may reach, through its integration's IAM policy; null when unavailable.
    std::unique_ptr<routes::connections_api> connections;
    std::unique_ptr<routes::tables_api> tables;
  };

  // What handlers reach; every member may be null (then handlers go without it).
  struct services {
    routes::connections_api* connections = nullptr;
    store::session_store* store = nullptr;
    routes::invocation_log* log = nullptr;
  };

  // Builds the route table: every handler is created with its options, every policy parsed, the
  // selection expression parsed. The error names the file and JSON path of what is wrong.
  static std::variant<std::unique_ptr<gateway>, std::string> create(
      const config::api_spec& api, const routes::handler_registry& registry, services s);
  // Without services: handlers reach no management API, tables or log (unit tests).
  static std::variant<std::unique_ptr<gateway>, std::string> create(
      const config::api_spec& api, const routes::handler_registry& registry);

  const config::api_spec& api() const { return api_; }
  const route* connect_route() const { return connect_; }
  const route* disconnect_route() const { return disconnect_; }

  // Route selection for one message: the route, or nullptr when the client gets "Forbidden".
  const route* select(std::string_view message) const { return resolve(message).route; }

  // The same decision with its reasons, for explaining it.
  struct selection {
    bool json = false;      // false: the message is empty or not JSON, so it goes to $default
    std::string key;        // what the expression evaluated to (empty when !json)
    const gateway::route* route = nullptr;
  };
  selection resolve(std::string_view message) const;
  const routes::selection_expression& expression() const { return expression_; }
  const std::vector<std::unique_ptr<route>>& routes() const { return routes_; }

  // The ids of one request: requestId (= extendedRequestId) and, for messages, messageId.
  struct request_ids {
    std::string request_id;
    std::string message_id;
    std::chrono::system_clock::time_point time;
  };
  static request_ids new_request(bool with_message_id);

  // $connect's authorization (docs/auth.md), fixed by create().
  enum class authorization_type { none, aws_iam, custom };
  struct identity_source {
    enum class kind { header, query, stage_variable, context };
    kind where = kind::header;
    std::string name;  // the header, parameter, variable or context variable
    std::string text;  // as the config writes it: "route.request.querystring.token"
  };
  struct connect_authorization {
    authorization_type type = authorization_type::none;
    std::string authorizer_name;                     // CUSTOM: its key in "authorizers"
    routes::authorizer* authorizer = nullptr;        // CUSTOM
    std::vector<identity_source> identity_sources;   // CUSTOM
    bool api_key_required = false;
  };
  const connect_authorization& authorization() const { return authorization_; }
  // True when the handshake needs more than the $connect integration (or none) to pass.
  bool authorizes_connect() const {
    return authorization_.type != authorization_type::none || authorization_.api_key_required;
  }
  // arn:aws:execute-api:REGION:ACCOUNT:APIID/STAGE/$connect, what authorization is asked for.
  const std::string& connect_arn() const { return connect_arn_; }

  // The first identity source of the CUSTOM authorizer that the handshake lacks or has empty;
  // null when every one is there (then, and only then, the authorizer runs).
  const identity_source* missing_identity_source(const connection_info& info,
                                                 const header_list& headers,
                                                 const request_ids& ids) const;

  // The REQUEST authorizer's event: type, methodArn, the handshake's headers (Connection and
  // Upgrade kept), its query, stageVariables ({} when none) and requestContext as for CONNECT.
  // The document refers to, and must not outlive, INFO, HEADERS and IDS.
  void build_authorizer_event(rapidjson::Document& event, const connection_info& info,
                              const header_list& headers, const request_ids& ids) const;

  // What authorization decided. status 0: $connect proceeds; else the handshake's status.
  struct authorization_outcome {
    int status = 0;
    std::string error;  // why it refused, for the trace; never a secret
    std::optional<authorizer_grant> grant;
    std::optional<iam_caller> iam;
    double latency_ms = 0;
  };
  // Runs the CUSTOM authorizer on EVENT (logged like a Lambda invocation) and judges its answer:
  // Unauthorized 401, a policy that does not allow execute-api:Invoke on connect_arn() 403,
  // any other failure or malformed answer 500, else allowed with the grant.
  authorization_outcome authorize(const rapidjson::Value& event, std::string_view request_id) const;
  // Judges an AWS_IAM handshake's signature check: 403 unless VERDICT names a signer whose
  // policy allows execute-api:Invoke on connect_arn(); then the caller's identity.
  authorization_outcome judge_signature(const sigv4::verdict& verdict) const;
  // apiKeyRequired: KEY (the x-api-key header; none when absent) is one of "apiKeys".
  bool accepts_api_key(const std::optional<std::string>& key) const;

  // Lambda proxy events (docs/behaviour.md, "The event a handler receives"). The document
  // refers to, and must not outlive, INFO, HEADERS, IDS and BODY.
  void build_connect_event(rapidjson::Document& event, const connection_info& info,
                           const header_list& headers, const request_ids& ids) const;
  void build_message_event(rapidjson::Document& event, const connection_info& info,
                           const route& r, const request_ids& ids, std::string_view body) const;
  void build_disconnect_event(rapidjson::Document& event, const connection_info& info,
                              const request_ids& ids, int code, std::string_view reason) const;

  // What an integration did.
  struct outcome {
    bool failed = false;        // threw or returned something unusable
    std::string error;          // the exception's message, for logs
    routes::handler_result result;
    double latency_ms = 0;      // how long the handler took (set by the route's invoke)
  };
  static outcome invoke(routes::handler& h, const rapidjson::Value& event,
                        routes::invocation_context& context);

  // Runs route R's integration with its context, written to the function's log stream like a
  // Lambda invocation (START, errors, END, REPORT).
  outcome invoke(const route& r, const rapidjson::Value& event, std::string_view request_id) const;

  // What goes back to the client after a message route's integration.
  struct reply {
    bool send = false;
    bool binary = false;
    std::string data;
  };
  static reply message_reply(const route& r, const outcome& o, const connection_info& info,
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
  explicit gateway(config::api_spec api);
  // Builds the authorizers, parses the credentials' policies and settles $connect's
  // authorization; the error names the file and JSON path.
  std::string build_authorization(const routes::handler_registry& registry);

  config::api_spec api_;
  routes::invocation_log* log_ = nullptr;
  // Every authorizer of "authorizers" by name, built at create() so that bad ones fail early.
  std::map<std::string, std::unique_ptr<routes::authorizer>, std::less<>> authorizers_;
  connect_authorization authorization_;
  std::string connect_arn_;
  // The policy of each entry of api_.credentials, in the same order.
  std::vector<routes::iam_policy> credential_policies_;
  routes::selection_expression expression_;
  std::vector<std::unique_ptr<route>> routes_;
  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, const route*, key_hash, std::equal_to<>> by_key_;
  const route* connect_ = nullptr;
  const route* disconnect_ = nullptr;
  const route* default_ = nullptr;
};

}  // namespace apigw::emulator
