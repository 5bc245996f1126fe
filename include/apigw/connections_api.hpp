// The @connections management API as handlers see it: PostToConnection, GetConnection and
// DeleteConnection with the same semantics and errors as over HTTP.
// Thread-safety: implementations are safe to call from any thread, from inside a handler too.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "apigw/export.hpp"

namespace apigw {

// What a management call answered: the HTTP status AWS would send and, on failure, its error
// type ("GoneException", "PayloadTooLargeException", "ForbiddenException", "AccessDeniedException",
// "LimitExceededException") and message.
struct management_result {
  int status = 200;
  std::string error_type;
  std::string message;

  bool ok() const { return error_type.empty(); }
  bool gone() const { return error_type == "GoneException"; }
};

// GetConnection's answer; timestamps in AWS's form, "2022-01-25T18:50:04.673Z".
struct connection_description {
  std::string connected_at;
  std::string last_active_at;
  std::string source_ip;
  std::optional<std::string> user_agent;
};

class APIGW_EXPORT connections_api {
 public:
  virtual ~connections_api() = default;

  // The data reaches the client as a text frame (split into frames of the frame limit).
  virtual management_result post_to_connection(std::string_view connection_id, std::string_view data) = 0;
  // REQUIRES: out != nullptr; filled on success.
  virtual management_result get_connection(std::string_view connection_id, connection_description* out) = 0;
  // Closes the connection with 1000; $disconnect runs with 1000 "Connection Closed Normally".
  virtual management_result delete_connection(std::string_view connection_id) = 0;
};

}  // namespace apigw
