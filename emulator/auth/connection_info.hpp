// What the gateway knows of one client connection, fixed when its handshake arrives, and the ids
// of one request on it.
// Thread-safety: immutable once published (the session completes it, authorization included,
// before $connect's integration runs); shared read-only between the session and handlers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/short_text.hpp"

namespace apigw::emulator {

// Request headers in order, as sent.
using header_list = std::vector<std::pair<std::string, std::string>>;

// What a CUSTOM authorizer established: requestContext.authorizer of every later event.
struct authorizer_grant {
  std::string principal_id;
  // The authorizer's context, as [(key, value)] with numbers and booleans in their JSON text.
  std::vector<std::pair<std::string, std::string>> context;
  std::int64_t integration_latency_ms = 0;  // how long the authorizer took
};

// Who signed an AWS_IAM handshake: the requestContext.identity fields IAM fills in.
struct iam_caller {
  std::string access_key;
  std::string account_id;  // the 12 digits of the principal's ARN
  std::string caller;      // the principal's name (user/NAME, role/NAME) or ROLE:SESSION
  std::string user_arn;
};

// API Gateway's ids (connectionId, requestId, messageId) are this long.
constexpr std::size_t kIdentifierLength = 16;
using identifier = short_text<kIdentifierLength>;

// The ids of one request: requestId (= extendedRequestId) and, for messages, messageId.
struct request_ids {
  identifier request_id;
  identifier message_id;
  std::chrono::system_clock::time_point time;
};

// What $connect's authorization established.
struct connection_grants {
  std::optional<authorizer_grant> authorizer;
  std::optional<iam_caller> iam;
  std::optional<std::string> api_key;  // the x-api-key of a route with apiKeyRequired
};

struct connection_info {
  std::string id;
  std::chrono::system_clock::time_point connected_at;
  std::string source_ip;
  std::optional<std::string> user_agent;
  std::string domain_name;   // the handshake's Host, with its port
  std::uint16_t local_port = 0;
  // The handshake's query string without the '?' (the headers are kept only for $connect).
  std::string query;
  // Set by $connect's authorization, before the $connect integration runs; null without any.
  // Held apart (and shared by the copies of this record) so that a connection without them, the
  // usual one, does not carry their room.
  std::shared_ptr<const connection_grants> grants;

  // What the grants hold, or nullptr.
  const authorizer_grant* authorizer() const {
    return grants && grants->authorizer ? &*grants->authorizer : nullptr;
  }
  const iam_caller* iam() const { return grants && grants->iam ? &*grants->iam : nullptr; }
  const std::string* api_key() const { return grants && grants->api_key ? &*grants->api_key : nullptr; }
};

}  // namespace apigw::emulator
