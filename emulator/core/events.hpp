// The Lambda proxy events of a WebSocket API (docs/behaviour.md, "The event a handler
// receives"): CONNECT, MESSAGE and DISCONNECT, and the REQUEST authorizer's event, member for
// member in the order AWS delivers them. Each document refers to, and must not outlive, the
// connection info, headers, ids and body it was built from.
// Thread-safety: immutable after construction; const members are safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "config/api_config.hpp"
#include "emulator/auth/connection_info.hpp"

namespace apigw::emulator {

class event_builder {
 public:
  // API must outlive the builder.
  explicit event_builder(const config::api_spec& api);

  void connect_event(rapidjson::Document& event, const connection_info& info, const header_list& headers,
                     const request_ids& ids) const;
  // The REQUEST authorizer's event: type, methodArn, the handshake's headers (Connection and
  // Upgrade kept), its query, stageVariables ({} when none) and requestContext as for CONNECT.
  void authorizer_event(rapidjson::Document& event, const connection_info& info, const header_list& headers,
                        const request_ids& ids) const;
  void message_event(rapidjson::Document& event, const connection_info& info, std::string_view route_key,
                     const request_ids& ids, std::string_view body) const;
  void disconnect_event(rapidjson::Document& event, const connection_info& info, const request_ids& ids,
                        int code, std::string_view reason) const;
  // The event of a handler that reads no more than its body (routes::event_use): {"body": BODY}
  // with a BODY, {} without one. Such handlers (the built-in echo and mock) are given only what
  // they read, so that their calls do not pay for requestContext.
  static void partial_event(rapidjson::Document& event, std::optional<std::string_view> body);

 private:
  void add_request_context(rapidjson::Value& ctx, const connection_info& info, const request_ids& ids,
                           std::string_view route_key, std::string_view event_type,
                           rapidjson::Document::AllocatorType& a, const int* disconnect_code,
                           std::string_view disconnect_reason) const;
  void add_stage_variables(rapidjson::Document& event) const;

  const config::api_spec& api_;
  std::string connect_arn_;
};

}  // namespace apigw::emulator
