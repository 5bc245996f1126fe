// The API's Lambda functions ("type": "lambda" integrations): for each one the program that runs
// it (the machine's Node.js or Python with the emulator's bootstrap, or the function's own
// `bootstrap` for "provided" runtimes), the environment Lambda defines, and its pool of
// processes. Makes the handlers that routes run.
// Thread-safety: create() and start() from one thread before any invocation; handlers may then
// be called from any thread; stop() once, from the controlling thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apigw/handler.hpp"
#include "common/result.hpp"
#include "config/api_config.hpp"
#include "emulator/functions/function_pool.hpp"
#include "emulator/functions/runtime_api.hpp"

namespace apigw::emulator::functions {

// The keys a function's process signs its AWS calls with: they identify the function, so that
// its integration's policy judges what its code does.
struct function_credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string role_arn;  // arn:aws:sts::ACCOUNT:assumed-role/NAMERole/NAME
};

class function_host {
 public:
  // Resolves every lambda integration of API: its runtime's program must exist on this machine
  // (the error says what to install), a "provided" function's bootstrap must be executable.
  // Notes (e.g. the machine's Node.js is not the version the runtime names) go to LOG.
  static result<std::unique_ptr<function_host>> create(const config::api_spec& api, runtime_api_opener open,
                                                       apigw::invocation_log* log);
  ~function_host();

  // The emulator's own HTTP endpoint ("http://127.0.0.1:8080"), where function code's AWS calls go.
  // REQUIRES: before the first invocation.
  void start(const std::string& emulator_url);

  // The handler that runs integration NAME; null when it is not a lambda integration.
  std::unique_ptr<apigw::handler> make_handler(const std::string& name) const;

  // A REQUEST authorizer run by integration NAME; null when it is not a lambda integration.
  std::unique_ptr<apigw::authorizer> make_authorizer(const std::string& name) const;

  // The credentials of integration NAME's processes; null when it is not a lambda integration.
  const function_credentials* credentials(const std::string& name) const;

  // Stops every function's processes (none is left running).
  void stop();

  bool empty() const { return functions_.empty(); }
  const std::map<std::string, std::shared_ptr<function_pool>>& pools() const { return pools_; }

  // Where the bootstraps and the bundled SDK live: $APIGW_RUNTIMES_DIR, or the source tree's
  // runtimes/ this emulator was built from.
  static std::string runtimes_dir();

 private:
  struct function {
    function_definition definition;
    function_credentials credentials;
  };
  function_host(runtime_api_opener open, apigw::invocation_log* log) : open_(std::move(open)), log_(log) {}

  runtime_api_opener open_;
  apigw::invocation_log* log_;
  std::map<std::string, function> functions_;
  std::map<std::string, std::shared_ptr<function_pool>> pools_;
};

// The Lambda proxy result a function returned (its JSON): an object gives statusCode, body,
// headers and isBase64Encoded; null gives nothing; any other JSON value is the body as it is.
// The error says why a result cannot be used.
result<apigw::handler_result> read_proxy_result(std::string_view json);

}  // namespace apigw::emulator::functions
