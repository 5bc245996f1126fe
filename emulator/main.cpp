// apigw-ws-emulator: serves one API Gateway WebSocket API on a local port.
//   apigw-ws-emulator [--config FILE] [--host H] [--port N] [--threads N]
#include <csignal>
#include <filesystem>
#include <vector>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include <pthread.h>

#include "config/config_loader.hpp"
#include "emulator/gateway.hpp"
#include "emulator/plugin_loader.hpp"
#include "emulator/route_explainer.hpp"
#include "emulator/server.hpp"
#include "routes/handler_registry.hpp"
#include "store/cli.hpp"
#include "store/session_store.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: apigw-ws-emulator [--config FILE] [--host HOST] [--port PORT] [--store PATH] [--threads N] [--quiet]\n"
    "       apigw-ws-emulator store scan TABLE | get TABLE KEYJSON | tables | connections --store PATH\n"
    "       apigw-ws-emulator explain [--config FILE] [--message TEXT] [--json]\n"
    "  --config FILE  the API to serve (JSON; see docs/configuration.md);\n"
    "                 without it, the built-in Websocket-Lab chat API\n"
    "  --host HOST    address to listen on (default: the config's server.host, 127.0.0.1)\n"
    "  --port PORT    port to listen on, 0 for a free one (default: the config's server.port, 8080)\n"
    "  --store PATH   keep the tables in this SQLite file (default: in memory)\n"
    "  --threads N    I/O threads (default: one per core)\n"
    "  --quiet        print neither the functions' log streams nor the routing trace\n"
    "  --log-level L  debug, info (default: function logs and the routing trace), warn, error\n"
    "  --log-format F text (default) or json: the routing trace as JSON lines\n"
    "  --access-log FILE  where the stage's access log goes (default: standard output)\n"
    "  --no-admin     do not serve the emulator's own endpoints under /@emulator/\n"
    "explain: how the API routes one message (TEXT, or standard input); exit 0 when a route\n"
    "  takes it, 1 when the client would get Forbidden, 2 for a bad config\n";

struct arguments {
  std::optional<std::string> config;
  apigw::emulator::server_options server;
};

// Exit status 2, as for every usage or configuration error.
[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "apigw-ws-emulator: " << message << "\n" << kUsage;
  std::exit(2);
}

long parse_number(std::string_view flag, const std::string& text, long min, long max) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < min || value > max) {
    usage_error(std::string(flag) + ": \"" + text + "\" is not a whole number from " +
                std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

arguments parse(int argc, char** argv) {
  arguments args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "--config") {
      args.config = value();
    } else if (flag == "--host") {
      args.server.host = value();
      if (args.server.host.empty()) usage_error("--host needs a non-empty value");
    } else if (flag == "--port") {
      args.server.port = static_cast<int>(parse_number(flag, value(), 0, 65535));
    } else if (flag == "--store") {
      args.server.store_path = value();
      if (args.server.store_path.empty()) usage_error("--store needs a file name");
    } else if (flag == "--quiet") {
      args.server.log_invocations = false;
      args.server.print_trace = false;
    } else if (flag == "--log-level") {
      const std::string level = value();
      if (level != "debug" && level != "info" && level != "warn" && level != "error") {
        usage_error("--log-level: \"" + level + "\" is not a level; use debug, info, warn or error");
      }
      const bool info = level == "debug" || level == "info";
      args.server.log_invocations = info;
      args.server.print_trace = info;
    } else if (flag == "--log-format") {
      const std::string format = value();
      if (format != "text" && format != "json") usage_error("--log-format: use text or json, not \"" + format + "\"");
      args.server.trace_as_json = format == "json";
    } else if (flag == "--access-log") {
      args.server.access_log_path = value();
      if (args.server.access_log_path.empty()) usage_error("--access-log needs a file name");
    } else if (flag == "--no-admin") {
      args.server.admin = false;
    } else if (flag == "--threads") {
      args.server.threads = static_cast<unsigned>(parse_number(flag, value(), 1, 256));
    } else {
      usage_error("unknown argument \"" + std::string(flag) + "\"");
    }
  }
  return args;
}

// apigw-ws-emulator store …: reads the store file of a (possibly running) emulator.
int store_command(int argc, char** argv) {
  std::vector<std::string> words;
  std::string path;
  for (int i = 2; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--store") {
      if (i + 1 >= argc) usage_error("--store needs a file name");
      path = argv[++i];
    } else {
      words.emplace_back(argv[i]);
    }
  }
  if (path.empty()) usage_error("store: name the store file with --store PATH");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    std::cerr << "apigw-ws-emulator: store: " << path << " is not a store file\n";
    return 2;
  }
  apigw::store::session_store::options options;
  options.path = path;
  options.keep_connection_records = true;
  auto opened = apigw::store::session_store::open(options, {});
  if (!opened) {
    std::cerr << "apigw-ws-emulator: store: " << opened.error() << "\n";
    return 2;
  }
  return apigw::store::run_store_command(words, **opened, std::cout, std::cerr);
}

// apigw-ws-emulator explain …: the route decision for one message, without a server.
int explain_command(int argc, char** argv) {
  std::optional<std::string> config_file;
  std::optional<std::string> message;
  bool json = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view flag = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "--config") {
      config_file = value();
    } else if (flag == "--message") {
      message = value();
    } else if (flag == "--json") {
      json = true;
    } else {
      usage_error("explain: unknown argument \"" + std::string(flag) + "\"");
    }
  }
  if (!message) {
    message.emplace(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (!message->empty() && message->back() == '\n') message->pop_back();
  }
  auto loaded = config_file ? apigw::config::load_file(*config_file) : apigw::config::load_default();
  if (auto* error = std::get_if<apigw::config::load_error>(&loaded)) {
    std::cerr << "apigw-ws-emulator: " << error->message << "\n";
    return 2;
  }
  auto registry = apigw::routes::handler_registry::with_builtins();
  auto& api = std::get<apigw::config::api_spec>(loaded);
  if (auto error = apigw::emulator::load_plugins(api, registry); !error.empty()) {
    std::cerr << "apigw-ws-emulator: " << error << "\n";
    return 2;
  }
  auto made = apigw::emulator::gateway::create(api, registry);
  if (auto* error = std::get_if<std::string>(&made)) {
    std::cerr << "apigw-ws-emulator: " << *error << "\n";
    return 2;
  }
  const auto x = apigw::emulator::explain_route(*std::get<std::unique_ptr<apigw::emulator::gateway>>(made), *message);
  std::cout << (json ? x.to_json() + "\n" : x.to_text());
  return x.result == apigw::emulator::route_explanation::outcome::forbidden ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "store") return store_command(argc, argv);
  if (argc > 1 && std::string_view(argv[1]) == "explain") return explain_command(argc, argv);
  const arguments args = parse(argc, argv);

  // Every thread the server starts (I/O, workers, the store's and the logs' writers) inherits
  // this mask, so SIGINT and SIGTERM reach only the sigwait below: block them before any exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto loaded = args.config ? apigw::config::load_file(*args.config) : apigw::config::load_default();
  if (auto* error = std::get_if<apigw::config::load_error>(&loaded)) {
    std::cerr << "apigw-ws-emulator: " << error->message << "\n";
    return 2;
  }
  const auto registry = apigw::routes::handler_registry::with_builtins();
  auto made = apigw::emulator::server::create(std::get<apigw::config::api_spec>(std::move(loaded)),
                                              registry, args.server);
  if (auto* error = std::get_if<std::string>(&made)) {
    std::cerr << "apigw-ws-emulator: " << *error << "\n";
    return 2;
  }
  auto& server = *std::get<std::unique_ptr<apigw::emulator::server>>(made);

  if (auto error = server.start(); !error.empty()) {
    std::cerr << "apigw-ws-emulator: " << error << "\n";
    return 2;
  }
  std::cout << "listening on " << server.url() << std::endl;

  int received = 0;
  sigwait(&signals, &received);
  server.stop();
  return 0;
}
