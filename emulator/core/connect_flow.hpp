// One handshake's way to the 101, without I/O. AWS's order: stage throttling (429), then the
// signature (AWS_IAM) or the REQUEST authorizer (CUSTOM: identity sources 401, the authorizer's
// 401 / 403 / 500), then the API key (403), then $connect's integration (its status, 502 when it
// failed, 504 when it timed out, 503 when the server is stopping). The session hands the
// handshake over and does what the result says: refuse with the status, or accept with the
// subprotocol (docs/auth.md, docs/behaviour.md).
// Thread-safety: one flow per handshake, driven on its connection's I/O thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "emulator/auth/connection_info.hpp"
#include "emulator/core/flow_context.hpp"
#include "emulator/core/integration_runner.hpp"
#include "emulator/core/trace_record.hpp"

namespace apigw::emulator {

// The upgrade request as the flow needs it.
struct handshake {
  std::string method;   // "GET"
  std::string target;   // path and raw query, as on the wire
  header_list headers;  // in order, as sent
  std::chrono::system_clock::time_point received;  // what SigV4's clock check compares with
};

// How the handshake ends.
struct connect_result {
  int status = 101;                        // 101: accept; else refuse with this HTTP status
  std::optional<std::string> subprotocol;  // 101: the integration's Sec-WebSocket-Protocol
  // The connection as authorization completed it (authorizer grant, IAM caller, API key).
  std::shared_ptr<const connection_info> info;
  // The CONNECT record: traced before a refusal is written, after an accepted connection opened
  // (so whoever reads the trace finds it listed).
  trace_record record;
};

class connect_flow : public std::enable_shared_from_this<connect_flow> {
 public:
  // INFO is the connection as the handshake shows it; authorization completes a copy of it.
  connect_flow(const flow_context& ctx, integration_runner& runner, std::shared_ptr<const connection_info> info,
               handshake request);

  // Runs the checks and $connect's integration; DONE gets the result once, possibly before
  // start() returns (when nothing blocks). The calls in flight keep the flow alive; DONE must not
  // hold it (it would never be freed if the server stopped before the flow ended).
  void start(std::function<void(connect_result)> done);

  // The connection as authorization completed it (authorizer grant, IAM caller, API key).
  const std::shared_ptr<const connection_info>& info() const { return info_; }

 private:
  void authorize_with_authorizer();
  void on_authorizer(const authorization_outcome& o, bool timed_out);
  void check_api_key();
  void run_connect();
  void on_connect(const outcome& o, bool timed_out);
  void refuse(int status, std::string error, double latency_ms = 0);
  void finish(connect_result r);
  trace_record new_record() const;
  template <class Change>
  void complete_info(Change change);
  // The same for what authorization grants (connection_info::grants).
  template <class Change>
  void grant(Change change);

  const flow_context& ctx_;
  integration_runner& runner_;
  std::shared_ptr<const connection_info> info_;
  handshake request_;
  request_ids ids_;
  std::function<void(connect_result)> done_;
};

}  // namespace apigw::emulator
