#include "emulator/functions/function_host.hpp"

#include "emulator/integrations/invocation.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace apigw::emulator::functions {
namespace {

constexpr std::string_view kAccount = "123456789012";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The first line a command prints, or "" when it cannot run.
std::string first_line_of(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen((command + " 2>&1").c_str(), "r"), ::pclose);
  if (!pipe) return {};
  std::array<char, 256> buf{};
  if (std::fgets(buf.data(), static_cast<int>(buf.size()), pipe.get()) == nullptr) return {};
  std::string line = buf.data();
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

// The absolute path of NAME on PATH, or "".
std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

// A stable, AWS-shaped key id for a function: "ASIA" + 16 letters and digits from its name.
std::string key_id_for(std::string_view name) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ULL;
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string id = "ASIA";
  for (int i = 0; i < 16; ++i) {
    id += alphabet[h & 31];
    h = (h >> 5) | (h << 59);
  }
  return id;
}

std::string random_text(std::size_t n) {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string out;
  std::FILE* f = std::fopen("/dev/urandom", "rb");
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char c = 0;
    if (f == nullptr || std::fread(&c, 1, 1, f) != 1) c = static_cast<unsigned char>(std::rand());
    out += alphabet[c % (sizeof alphabet - 1)];
  }
  if (f) std::fclose(f);
  return out;
}

// The pool of function NAME; throws when it is not started.
function_pool& pool_of(const function_host& host, const std::string& name) {
  auto it = host.pools().find(name);
  if (it == host.pools().end()) throw std::runtime_error("the function " + name + " is not started");
  return *it->second;
}

std::string json_text(const rapidjson::Value& event) {
  rapidjson::StringBuffer json;
  rapidjson::Writer<rapidjson::StringBuffer> w(json);
  event.Accept(w);
  return std::string(json.GetString(), json.GetSize());
}

// What a route's invocation gives the flows: the proxy result, or the failure and its type.
outcome outcome_of(invocation_result r) {
  outcome o;
  function_report report;
  report.request_id = std::move(r.request_id);
  report.cold = r.cold;
  report.init_ms = r.init_ms;
  if (r.how != invocation_result::kind::ok) {
    o.failed = true;
    o.error = r.error_type + ": " + r.error_message;
    report.error_type = std::move(r.error_type);
  } else if (auto parsed = read_proxy_result(r.payload)) {
    o.result = *std::move(parsed);
  } else {
    o.failed = true;
    o.error = parsed.error();
    report.error_type = "Malformed Lambda proxy response";
  }
  o.function = std::move(report);
  return o;
}

// A route's handler: one invocation of the function per call, answered when the function
// answers (no thread waits for it). The pool exists from the host's start(); the handler finds
// it at its first call.
class lambda_handler final : public function_handler {
 public:
  lambda_handler(const function_host& host, std::string name) : host_(host), name_(std::move(name)) {}

  void start(const rapidjson::Value& event, done_fn done) override {
    function_pool* pool = nullptr;
    try {
      pool = &pool_of(host_, name_);
    } catch (const std::exception& e) {
      outcome o;
      o.failed = true;
      o.error = e.what();
      done(std::move(o));
      return;
    }
    pool->start(json_text(event), [done = std::move(done)](invocation_result r) { done(outcome_of(std::move(r))); });
  }

 private:
  const function_host& host_;
  std::string name_;
};

// A REQUEST authorizer that is a Lambda function: its answer (principalId, policyDocument,
// context) goes to the same judgment as the in-process authorizers'; failing with exactly
// "Unauthorized" refuses with 401, as on AWS.
class lambda_authorizer final : public apigw::authorizer {
 public:
  lambda_authorizer(const function_host& host, std::string name) : host_(host), name_(std::move(name)) {}

  apigw::authorizer_result authorize(const rapidjson::Value& event, apigw::invocation_context&) override {
    invocation_result r = pool_of(host_, name_).invoke(json_text(event));
    if (r.how != invocation_result::kind::ok) {
      if (r.error_message == "Unauthorized") throw apigw::unauthorized();
      throw std::runtime_error(r.error_type + ": " + r.error_message);
    }
    rapidjson::Document d;
    d.Parse(r.payload.c_str(), r.payload.size());
    if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("the authorizer's answer is not a JSON object");
    const auto text_of = [](const rapidjson::Value& v) {
      rapidjson::StringBuffer b;
      rapidjson::Writer<rapidjson::StringBuffer> out(b);
      v.Accept(out);
      return std::string(b.GetString(), b.GetSize());
    };
    apigw::authorizer_result answer;
    if (auto m = d.FindMember("principalId"); m != d.MemberEnd() && m->value.IsString()) {
      answer.principal_id = m->value.GetString();
    }
    if (auto m = d.FindMember("policyDocument"); m != d.MemberEnd()) answer.policy_json = text_of(m->value);
    if (auto m = d.FindMember("context"); m != d.MemberEnd() && !m->value.IsNull()) answer.context_json = text_of(m->value);
    return answer;
  }

  bool may_block() const override { return true; }

 private:
  const function_host& host_;
  std::string name_;
};

}  // namespace

std::string function_host::runtimes_dir() {
  if (const char* dir = std::getenv("APIGW_RUNTIMES_DIR"); dir != nullptr && *dir != '\0') return dir;
  return APIGW_SOURCE_RUNTIMES_DIR;
}

result<std::unique_ptr<function_host>> function_host::create(const config::api_spec& api, runtime_api_opener open,
                                                             apigw::invocation_log* log) {
  std::unique_ptr<function_host> host(new function_host(std::move(open), log));
  const std::string runtimes = runtimes_dir();
  std::string node;
  std::string python;
  for (const auto& [name, integration] : api.integrations) {
    if (!integration.function) continue;
    const config::function_spec& spec = *integration.function;
    const std::string where = api.source + ": " + integration.json_path;
    function f;
    function_definition& d = f.definition;
    d.name = name;
    d.arn = "arn:aws:lambda:" + api.region + ":" + std::string(kAccount) + ":function:" + name;
    d.timeout = std::chrono::microseconds(static_cast<long long>(spec.timeout_seconds * 1e6));
    d.memory_mb = spec.memory_mb;
    d.max_processes = spec.reserved_concurrency;
    d.code_dir = spec.code_dir;
    d.process.cwd = spec.code_dir;

    std::string note;
    if (starts_with(spec.runtime, "nodejs")) {
      if (node.empty()) node = find_on_path("node");
      if (node.empty()) {
        return fail(where + ".runtime: \"" + spec.runtime + "\" needs Node.js, which this machine does not have; "
                    "install it (apt-get install nodejs npm), then run scripts/setup for the SDK Lambda bundles");
      }
      d.process.program = node;
      d.process.args = {runtimes + "/nodejs/bootstrap.mjs"};
      const std::string version = first_line_of(node + " --version");  // "v20.20.2"
      const std::string wanted = spec.runtime.substr(6, spec.runtime.find('.') - 6);  // "20"
      if (!starts_with(version, "v" + wanted + ".")) {
        note = spec.runtime + " runs with this machine's Node.js " + version + " (Lambda would use Node.js " +
               wanted + ")";
      }
    } else if (starts_with(spec.runtime, "python")) {
      if (python.empty()) python = ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : find_on_path("python3");
      if (python.empty()) {
        return fail(where + ".runtime: \"" + spec.runtime + "\" needs Python 3, which this machine does not have; "
                    "install it (apt-get install python3 python3-boto3)");
      }
      d.process.program = python;
      d.process.args = {runtimes + "/python/bootstrap.py"};
      const std::string version = first_line_of(python + " --version");  // "Python 3.11.2"
      const std::string wanted = spec.runtime.substr(6);                   // "3.12"
      if (!starts_with(version, "Python " + wanted + ".")) {
        note = spec.runtime + " runs with this machine's " + version + " (Lambda would use Python " + wanted + ")";
      }
    } else {
      const std::string bootstrap = spec.code_dir + "/bootstrap";
      if (::access(bootstrap.c_str(), X_OK) != 0) {
        return fail(where + ".codeUri: a \"" + spec.runtime + "\" function needs an executable file named "
                    "bootstrap in its folder (" + bootstrap + "): " +
                    (::access(bootstrap.c_str(), F_OK) == 0 ? "it is not executable (chmod +x)" : "there is none"));
      }
      d.process.program = bootstrap;
    }
    if (!note.empty() && log) log->write(name, "", "", note);

    f.credentials.access_key_id = key_id_for(name);
    f.credentials.secret_access_key = random_text(40);
    f.credentials.session_token = random_text(64);
    // The role the in-process handlers are judged as too (emulator/auth/permissions.hpp).
    f.credentials.role_arn = "arn:aws:sts::" + std::string(kAccount) + ":assumed-role/" + name + "Role/" + name;

    // Layers: what Lambda extracts into /opt, here each in its own folder, searched as Lambda
    // searches /opt (a later layer's files win, so it comes first).
    std::string layer_modules, layer_python, layer_bin, layer_lib;
    const auto add = [](std::string& list, const std::string& folder) {
      list += (list.empty() ? "" : ":") + folder;
    };
    for (auto layer = spec.layers.rbegin(); layer != spec.layers.rend(); ++layer) {
      if (starts_with(spec.runtime, "nodejs")) {
        const std::string major = spec.runtime.substr(6, spec.runtime.find('.') - 6);  // "nodejs20.x": "20"
        add(layer_modules, *layer + "/nodejs/node" + major + "/node_modules");
        add(layer_modules, *layer + "/nodejs/node_modules");
      }
      if (starts_with(spec.runtime, "python")) {
        add(layer_python, *layer + "/python/lib/" + spec.runtime + "/site-packages");
        add(layer_python, *layer + "/python");
      }
      add(layer_bin, *layer + "/bin");
      add(layer_lib, *layer + "/lib");
    }
    // The environment Lambda defines, and nothing of the user's own AWS configuration.
    const char* path = std::getenv("PATH");
    auto& env = d.process.env;
    env = {
        // Lambda's PATH ends with /opt/bin.
        "PATH=" + std::string(path ? path : "/usr/local/bin:/usr/bin:/bin") + (layer_bin.empty() ? "" : ":" + layer_bin),
        "LANG=C.UTF-8",
        "TZ=UTC",
        "_HANDLER=" + spec.handler,
        "AWS_REGION=" + api.region,
        "AWS_DEFAULT_REGION=" + api.region,
        "AWS_EXECUTION_ENV=AWS_Lambda_" + spec.runtime,
        "AWS_LAMBDA_FUNCTION_NAME=" + name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + std::to_string(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + name,
        "LAMBDA_TASK_ROOT=" + spec.code_dir,
        "LAMBDA_RUNTIME_DIR=" + runtimes,
        "AWS_ACCESS_KEY_ID=" + f.credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY=" + f.credentials.secret_access_key,
        "AWS_SESSION_TOKEN=" + f.credentials.session_token,
        "AWS_CONFIG_FILE=/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
        "AWS_EC2_METADATA_DISABLED=true",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE=disabled",
        "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true",
        "APIGW_EMULATOR_SERVICES=execute-api,dynamodb",
    };
    if (!layer_lib.empty()) env.push_back("LD_LIBRARY_PATH=" + layer_lib);
    if (!layer_python.empty()) env.push_back("PYTHONPATH=" + layer_python);
    if (starts_with(spec.runtime, "nodejs")) {
      // After the layers' packages, the runtime's own (the bundled AWS SDK).
      add(layer_modules, runtimes + "/nodejs/node_modules");
      env.push_back("NODE_PATH=" + layer_modules);
    }
    // Lambda's code folder is read-only: no __pycache__ written into the user's code.
    if (starts_with(spec.runtime, "python")) env.push_back("PYTHONDONTWRITEBYTECODE=1");
    for (const auto& [k, v] : spec.environment) env.push_back(k + "=" + v);
    host->functions_.emplace(name, std::move(f));
  }
  return host;
}

function_host::~function_host() { stop(); }

void function_host::start(const std::string& emulator_url) {
  for (auto& [name, f] : functions_) {
    function_definition d = f.definition;
    d.process.env.push_back("APIGW_EMULATOR_URL=" + emulator_url);
    // SDKs that read AWS_ENDPOINT_URL_<SERVICE> (SDK v3, Go, Java, the CLI) go straight there,
    // also from "provided" functions, which get no redirection of their own.
    d.process.env.push_back("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI=" + emulator_url);
    d.process.env.push_back("AWS_ENDPOINT_URL_DYNAMODB=" + emulator_url);
    pools_.emplace(name, function_pool::create(std::move(d), open_, log_));
  }
}

std::unique_ptr<apigw::handler> function_host::make_handler(const std::string& name) const {
  if (functions_.find(name) == functions_.end()) return nullptr;
  return std::make_unique<lambda_handler>(*this, name);
}

std::unique_ptr<apigw::authorizer> function_host::make_authorizer(const std::string& name) const {
  if (functions_.find(name) == functions_.end()) return nullptr;
  return std::make_unique<lambda_authorizer>(*this, name);
}

const function_credentials* function_host::credentials(const std::string& name) const {
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : &it->second.credentials;
}

void function_host::stop() {
  for (auto& [name, pool] : pools_) pool->stop();
}

result<apigw::handler_result> read_proxy_result(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError()) return fail("the function's result is not JSON");
  apigw::handler_result r;
  if (d.IsNull()) return r;
  if (!d.IsObject()) {
    r.body = std::string(json);
    return r;
  }
  if (auto m = d.FindMember("statusCode"); m != d.MemberEnd()) {
    if (m->value.IsInt()) {
      r.status_code = m->value.GetInt();
    } else if (m->value.IsString() && !std::string(m->value.GetString()).empty() &&
               std::string(m->value.GetString()).find_first_not_of("0123456789") == std::string::npos) {
      r.status_code = std::atoi(m->value.GetString());
    } else if (!m->value.IsNull()) {
      return fail("the function's result has a statusCode that is not an integer");
    }
  }
  if (auto m = d.FindMember("body"); m != d.MemberEnd() && !m->value.IsNull()) {
    if (m->value.IsString()) {
      r.body = std::string(m->value.GetString(), m->value.GetStringLength());
    } else {
      rapidjson::StringBuffer b;
      rapidjson::Writer<rapidjson::StringBuffer> w(b);
      m->value.Accept(w);
      r.body = std::string(b.GetString(), b.GetSize());
    }
  }
  if (auto m = d.FindMember("headers"); m != d.MemberEnd() && m->value.IsObject()) {
    for (auto h = m->value.MemberBegin(); h != m->value.MemberEnd(); ++h) {
      if (h->value.IsString()) r.headers.emplace_back(h->name.GetString(), h->value.GetString());
    }
  }
  if (auto m = d.FindMember("isBase64Encoded"); m != d.MemberEnd() && m->value.IsBool()) {
    r.is_base64_encoded = m->value.GetBool();
  }
  return r;
}

}  // namespace apigw::emulator::functions
