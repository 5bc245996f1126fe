// Why a message goes where it goes: the selection expression part by part, what each path found,
// the resulting key, the route chosen and why, for `apigw-ws-emulator explain` and
// POST /@emulator/explain.
// Thread-safety: pure functions of an immutable gateway.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "emulator/core/gateway.hpp"

namespace apigw::emulator {

struct route_explanation {
  struct part {
    std::string source;  // as written, e.g. "${request.body.action}" or a literal
    bool is_path = false;
    bool found = false;  // for paths: whether the message had it
    std::string value;   // what it contributed
  };
  enum class outcome { exact_match, default_route, forbidden };

  std::string expression;
  std::string message;
  bool message_is_json = false;
  std::vector<part> parts;
  std::string selection;  // the evaluated key (empty when the message is not JSON)
  outcome result = outcome::forbidden;
  std::string route_key;  // empty when forbidden
  bool two_way = false;
  std::string integration;
  std::string handler;
  // When the integration is a Lambda function: its runtime and code folder (handler is its handler).
  std::string function_runtime;
  std::string function_code;
  // When no route has the selection: the route the client probably meant (did_you_mean_key,
  // empty when none is close) and whether the keys differ only in case. See explain_route.
  std::string did_you_mean_key;
  bool did_you_mean_case_only = false;

  // For people: one fact a line.
  std::string to_text() const;
  // For machines: {"expression", "message", "messageIsJson", "parts", "selection", "outcome",
  // "routeKey", "didYouMean" (only with a suggestion: {"routeKey", "caseOnly"}), "twoWay",
  // "integration", "handler", "function", "clientGets"}.
  std::string to_json() const;
};

// When the selection names no route, the route the client probably meant is suggested: one whose
// key equals it but for case, or else one edit away ignoring case (a letter added, missing or
// changed, or two neighbours swapped) when that key has at least three letters (in a shorter key
// one edit makes another word). $connect, $disconnect and $default are never suggested. The
// nearest wins (case-only first), then the one nearest with case counted, then the first in the
// config.
route_explanation explain_route(const gateway& gw, std::string_view message);

}  // namespace apigw::emulator
