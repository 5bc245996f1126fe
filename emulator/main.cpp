// apigw-ws-emulator: serves one API Gateway WebSocket API on a local port.
//   apigw-ws-emulator [--config FILE] [--port N] ...; store ...; explain ... (see print_usage)
#include <algorithm>
#include <array>
#include <cctype>
#include <csignal>
#include <vector>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <pthread.h>

#include "common/edit_distance.hpp"
#include "config/config_loader.hpp"
#include "templates/template_loader.hpp"
#include "emulator/core/gateway.hpp"
#include "emulator/integrations/plugin_loader.hpp"
#include "emulator/core/route_explainer.hpp"
#include "emulator/net/server.hpp"
#include "apigw/handler_registry.hpp"
#include "store/cli.hpp"
#include "store/session_store.hpp"

#ifndef APIGW_VERSION
#error "APIGW_VERSION must be the project's version (CMake's PROJECT_VERSION)"
#endif

namespace {

// The server's synopsis lists every one of its options; the usage describes each below.
constexpr std::string_view kServerSynopsis =
    "apigw-ws-emulator [--config FILE] [--template FILE] [--parameter-overrides K=V ...] [--stage NAME] "
    "[--api LOGICAL_ID] [--host HOST] [--port PORT] [--store PATH] [--threads N] [--quiet] "
    "[--log-level L] [--log-format F] [--access-log FILE] [--no-admin] [--strict-credentials] [--version] [--help]";
constexpr std::string_view kStoreSynopsis =
    "apigw-ws-emulator store scan TABLE | get TABLE KEYJSON | tables | connections --store PATH";
constexpr std::string_view kExplainSynopsis =
    "apigw-ws-emulator explain [--config FILE | --template FILE ...] [--message TEXT] [--json]";
constexpr std::string_view kTemplateSynopsis =
    "apigw-ws-emulator template show FILE [--parameter-overrides K=V ...] [--stage NAME] [--api LOGICAL_ID]";
constexpr std::string_view kUsageDetails =
    "  --config FILE  the API to serve (JSON; see docs/configuration.md);\n"
    "                 without it, the built-in Websocket-Lab chat API\n"
    "  --template FILE  serve the WebSocket APIs of a SAM or CloudFormation template (YAML or\n"
    "                 JSON; see docs/templates.md) instead of a config, each on a port of its own\n"
    "                 from --port on; it may repeat, one per stack\n"
    "  --parameter-overrides K=V ...  the templates' parameters (as sam deploy takes them)\n"
    "  --stage NAME   the template's stage to serve, when its API has several\n"
    "  --api LOGICAL_ID  serve only this WebSocket API of the template\n"
    "  --host HOST    address to listen on (default: the config's server.host, 127.0.0.1)\n"
    "  --port PORT    port to listen on, 0 for a free one (default: the config's server.port, 8080)\n"
    "  --store PATH   keep the tables in this SQLite file (default: in memory)\n"
    "  --threads N    I/O threads (default: one per core)\n"
    "  --quiet        print neither the functions' log streams nor the routing trace\n"
    "  --log-level L  debug, info (default: function logs and the routing trace), warn, error\n"
    "  --log-format F text (default) or json: the routing trace as JSON lines\n"
    "  --access-log FILE  where the stage's access log goes (default: standard output)\n"
    "  --no-admin     do not serve the emulator's own endpoints under /@emulator/\n"
    "  --strict-credentials  refuse DynamoDB calls that are unsigned or signed with a key the\n"
    "                 emulator does not know (default: any key is an administrator's)\n"
    "  --version      print the version and exit\n"
    "  --help, -h     print this help and exit\n"
    "explain: how the API routes one message (TEXT, or standard input); exit 0 when a route\n"
    "  takes it, 1 when the client would get Forbidden, 2 for a bad config\n"
    "template show: the configuration a template translates to, as JSON\n";

constexpr std::array<std::string_view, 17> kServerOptions = {
    "--config",  "--template", "--parameter-overrides", "--stage", "--api", "--host", "--port",
    "--store", "--threads", "--quiet", "--log-level", "--log-format", "--access-log", "--no-admin",
    "--strict-credentials", "--version", "--help"};
constexpr std::array<std::string_view, 7> kExplainOptions = {"--config", "--template", "--parameter-overrides",
                                                             "--stage",  "--api",      "--message", "--json"};
constexpr std::array<std::string_view, 3> kTemplateOptions = {"--parameter-overrides", "--stage", "--api"};
constexpr std::array<std::string_view, 1> kStoreOptions = {"--store"};
constexpr std::array<std::string_view, 3> kSubcommands = {"store", "explain", "template"};

void print_usage(std::ostream& out) {
  out << "usage: " << kServerSynopsis << "\n       " << kStoreSynopsis << "\n       " << kExplainSynopsis
      << "\n       " << kTemplateSynopsis << "\n"
      << kUsageDetails;
}

// What WORD was probably meant as: the nearest of NAMES (options or subcommands), compared without
// leading dashes and ignoring case, when it is close enough (one edit per three letters, at least
// one). The first of equally near names wins.
std::optional<std::string_view> nearest_name(std::string_view word, std::span<const std::string_view> names) {
  const auto bare = [](std::string_view s) {
    std::string out(s.substr(std::min(s.find_first_not_of('-'), s.size())));
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string typed = bare(word);
  std::optional<std::string_view> best;
  std::size_t best_distance = 0;
  for (std::string_view candidate : names) {
    const std::string name = bare(candidate);
    const std::size_t distance = apigw::edit_distance(typed, name);
    if (distance > std::max<std::size_t>(1, name.size() / 3)) continue;
    if (!best || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

// Exit status 2, as for every usage or configuration error.
[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "apigw-ws-emulator: " << message << "\n";
  print_usage(std::cerr);
  std::exit(2);
}

// An argument that is none of OPTIONS: the option (or, for a word, one of SUBCOMMANDS) it
// resembles, or else SYNOPSIS, which lists them all. CONTEXT ("explain: ") names the subcommand.
// Exit status 2.
[[noreturn]] void unknown_argument(std::string_view context, std::string_view argument,
                                   std::span<const std::string_view> options, std::string_view synopsis,
                                   std::span<const std::string_view> subcommands = {}) {
  std::cerr << "apigw-ws-emulator: " << context;
  if (!argument.starts_with('-')) {
    std::cerr << "unexpected argument \"" << argument << "\"";
    if (const auto subcommand = nearest_name(argument, subcommands)) {
      std::cerr << "; did you mean " << *subcommand << "?\n";
      std::exit(2);
    }
    std::cerr << "\n";
  } else if (const auto eq = argument.find('=');
             eq != std::string_view::npos &&
             std::find(options.begin(), options.end(), argument.substr(0, eq)) != options.end()) {
    std::cerr << "unknown option " << argument << "; did you mean " << argument.substr(0, eq) << ' '
              << argument.substr(eq + 1) << "?\n";
    std::exit(2);
  } else if (const auto option = nearest_name(argument, options)) {
    std::cerr << "unknown option " << argument << "; did you mean " << *option << "?\n";
    std::exit(2);
  } else {
    std::cerr << "unknown option " << argument << "\n";
  }
  std::cerr << "usage: " << synopsis << "\n";
  std::exit(2);
}

// Where the API comes from: a config, a template (with its options), or the built-in lab.
struct api_source {
  std::optional<std::string> config;
  std::vector<std::string> template_files;  // --template, which may repeat for the server
  apigw::templates::template_options template_options;
  bool template_options_given = false;

  // Reads the options of this struct at argv[i]; false when argv[i] is none of them.
  bool read(int argc, char** argv, int& i) {
    const std::string_view flag = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "--config") {
      config = value();
    } else if (flag == "--template") {
      template_files.push_back(value());
    } else if (flag == "--stage") {
      template_options.stage = value();
      template_options_given = true;
    } else if (flag == "--api") {
      template_options.api = value();
      template_options_given = true;
    } else if (flag == "--parameter-overrides") {
      // Every following word up to the next option, as sam deploy takes them.
      if (i + 1 >= argc || std::string_view(argv[i + 1]).starts_with("--")) {
        usage_error("--parameter-overrides needs NAME=VALUE");
      }
      while (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("--")) {
        if (auto added = apigw::templates::add_parameter_override(argv[++i], template_options); !added) {
          usage_error(added.error());
        }
      }
      template_options_given = true;
    } else {
      return false;
    }
    return true;
  }

  void check() const {
    if (config && !template_files.empty()) usage_error("--config and --template both name the API: give one");
    if (template_options_given && template_files.empty()) {
      usage_error("--parameter-overrides, --stage and --api are options of --template FILE");
    }
    if (template_files.size() > 1 && (!template_options.stage.empty() || !template_options.api.empty())) {
      usage_error("--stage and --api choose within one template; with several, each serves all its APIs");
    }
  }
};

struct loaded_api {
  apigw::config::api_spec api;
  std::optional<apigw::templates::translated_template> from_template;
};

// A template's translation, loaded as a config file would be.
apigw::result<loaded_api> load_translated(apigw::templates::translated_template translated, const std::string& file) {
  auto loaded = apigw::config::load_text(translated.config_json, file);
  if (!loaded) {
    return apigw::fail(loaded.error() + " (in the configuration the template translates to: see `apigw-ws-emulator "
                                        "template show " + file + "`)");
  }
  return loaded_api{*std::move(loaded), std::move(translated)};
}

// The API of SOURCE; a template must then have one WebSocket API, or --api names it.
apigw::result<loaded_api> load_api(const api_source& source) {
  if (source.template_files.empty()) {
    auto loaded = source.config ? apigw::config::load_file(*source.config) : apigw::config::load_default();
    if (!loaded) return loaded.status();
    return loaded_api{*std::move(loaded), std::nullopt};
  }
  if (source.template_files.size() > 1) return apigw::fail("explain and template show read one --template");
  const std::string& file = source.template_files.front();
  auto translated = apigw::templates::translate_template_file(file, source.template_options);
  if (!translated) return translated.status();
  return load_translated(*std::move(translated), file);
}

// What the server serves: the API of SOURCE, or every WebSocket API of its templates.
apigw::result<std::vector<loaded_api>> load_apis(const api_source& source) {
  std::vector<loaded_api> apis;
  if (source.template_files.empty()) {
    auto loaded = load_api(source);
    if (!loaded) return loaded.status();
    apis.push_back(*std::move(loaded));
    return apis;
  }
  apigw::templates::template_options options = source.template_options;
  options.overrides_for_several_templates = source.template_files.size() > 1;
  std::set<std::string> declared;  // the parameters of every template
  for (const std::string& file : source.template_files) {
    auto translated = apigw::templates::translate_every_api(file, options);
    if (!translated) return translated.status();
    for (auto& t : *translated) {
      declared.insert(t.parameters.begin(), t.parameters.end());
      auto loaded = load_translated(std::move(t), file);
      if (!loaded) return loaded.status();
      apis.push_back(*std::move(loaded));
    }
  }
  for (const auto& [key, value] : options.parameter_overrides) {
    if (!declared.contains(key)) {
      return apigw::fail("Parameters: [" + key + "] do not exist in any of the templates");
    }
  }
  return apis;
}

struct arguments {
  api_source source;
  apigw::emulator::server_options server;
};

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
      print_usage(std::cout);
      std::exit(0);
    }
    if (flag == "--version") {
      std::cout << "apigw-ws-emulator " APIGW_VERSION "\n";
      std::exit(0);
    }
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (args.source.read(argc, argv, i)) {
      continue;
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
    } else if (flag == "--strict-credentials") {
      args.server.strict_credentials = true;
    } else if (flag == "--threads") {
      args.server.threads = static_cast<unsigned>(parse_number(flag, value(), 1, 256));
    } else {
      // A subcommand is the first argument: only there can a word be a misspelt one.
      unknown_argument("", flag, kServerOptions, kServerSynopsis,
                       i == 1 ? std::span<const std::string_view>(kSubcommands) : std::span<const std::string_view>());
    }
  }
  args.source.check();
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
    } else if (std::string_view(argv[i]).starts_with("--")) {
      unknown_argument("store: ", argv[i], kStoreOptions, kStoreSynopsis);
    } else {
      words.emplace_back(argv[i]);
    }
  }
  if (path.empty()) usage_error("store: name the store file with --store PATH");
  auto opened = apigw::store::open_store_file(path);
  if (!opened) {
    std::cerr << "apigw-ws-emulator: store: " << opened.error() << "\n";
    return 2;
  }
  return apigw::store::run_store_command(words, **opened, std::cout, std::cerr);
}

// explain routes a message without running anything: a "lambda" integration or authorizer
// stands there as the function it names, never invoked.
class function_not_run : public apigw::handler {
 public:
  apigw::handler_result invoke(const rapidjson::Value&, apigw::invocation_context&) override {
    throw std::logic_error("explain runs no function");
  }
};

class authorizer_not_run : public apigw::authorizer {
 public:
  apigw::authorizer_result authorize(const rapidjson::Value&, apigw::invocation_context&) override {
    throw std::logic_error("explain runs no authorizer");
  }
};

// apigw-ws-emulator explain …: the route decision for one message, without a server.
int explain_command(int argc, char** argv) {
  api_source source;
  std::optional<std::string> message;
  bool json = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view flag = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (source.read(argc, argv, i)) {
      continue;
    } else if (flag == "--message") {
      message = value();
    } else if (flag == "--json") {
      json = true;
    } else {
      unknown_argument("explain: ", flag, kExplainOptions, kExplainSynopsis);
    }
  }
  source.check();
  if (!message) {
    message.emplace(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (!message->empty() && message->back() == '\n') message->pop_back();
  }
  auto loaded = load_api(source);
  if (!loaded) {
    std::cerr << "apigw-ws-emulator: " << loaded.error() << "\n";
    return 2;
  }
  auto registry = apigw::handler_registry::with_builtins();
  auto& api = loaded->api;
  if (auto loaded = apigw::emulator::load_plugins(api, registry); !loaded) {
    std::cerr << "apigw-ws-emulator: " << loaded.error() << "\n";
    return 2;
  }
  apigw::emulator::gateway::services services;
  services.make_function = [](const std::string&) { return std::make_unique<function_not_run>(); };
  services.make_function_authorizer = [](const std::string&) { return std::make_unique<authorizer_not_run>(); };
  auto made = apigw::emulator::gateway::create(api, registry, std::move(services));
  if (!made) {
    std::cerr << "apigw-ws-emulator: " << made.error() << "\n";
    return 2;
  }
  const auto x = apigw::emulator::explain_route(**made, *message);
  std::cout << (json ? x.to_json() + "\n" : x.to_text());
  return x.result == apigw::emulator::route_explanation::outcome::forbidden ? 1 : 0;
}

// apigw-ws-emulator template show FILE …: the configuration a template translates to.
int template_command(int argc, char** argv) {
  if (argc < 3 || std::string_view(argv[2]) != "show") usage_error("template: use template show FILE");
  api_source source;
  for (int i = 3; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word != "--config" && word != "--template" && source.read(argc, argv, i)) continue;
    if (word.starts_with("--")) unknown_argument("template show: ", word, kTemplateOptions, kTemplateSynopsis);
    if (!source.template_files.empty()) {
      usage_error("template show: one FILE (\"" + std::string(word) + "\" is a second)");
    }
    source.template_files.push_back(std::string(word));
  }
  if (source.template_files.empty()) usage_error("template show: name the template, e.g. template show template.yaml");
  auto loaded = load_api(source);
  if (!loaded) {
    std::cerr << "apigw-ws-emulator: " << loaded.error() << "\n";
    return 2;
  }
  std::cout << loaded->from_template->config_json;
  for (const std::string& ignored : loaded->from_template->not_emulated) {
    std::cerr << "not emulated: " << ignored << "\n";
  }
  return 0;
}

// What templates add to the start-up output: for each template, what it holds that the emulator
// ignores, and its Outputs, with the local URL beside what AWS would give for an API's endpoint.
// APIS: the translations of the served APIs, their template and their URL. With several
// templates, each line names its template.
struct served_translation {
  const apigw::templates::translated_template* translation;
  std::string source;
  std::string url;
};

void print_template_notes(const std::vector<served_translation>& apis) {
  std::vector<std::string> sources;
  for (const auto& a : apis) {
    if (std::find(sources.begin(), sources.end(), a.source) == sources.end()) sources.push_back(a.source);
  }
  for (const std::string& source : sources) {
    const std::string prefix = sources.size() > 1 ? source + ": " : "";
    std::vector<std::string> printed;
    const apigw::templates::translated_template* first = nullptr;
    for (const auto& a : apis) {
      if (a.source != source) continue;
      if (first == nullptr) first = a.translation;
      for (const std::string& ignored : a.translation->not_emulated) {
        if (std::find(printed.begin(), printed.end(), ignored) != printed.end()) continue;
        std::cout << "not emulated: " << prefix << ignored << "\n";
        printed.push_back(ignored);
      }
    }
    if (first->outputs.empty()) continue;
    std::cout << "Outputs" << (sources.size() > 1 ? " of " + source : std::string()) << ":\n";
    for (const auto& output : first->outputs) {
      std::cout << "  " << output.name << " = " << output.value;
      for (const auto& a : apis) {
        if (a.source != source || !output.value.starts_with(a.translation->api_endpoint)) continue;
        const std::string local_base = a.url.substr(0, a.url.find('/', a.url.find("//") + 2));
        std::cout << "  (here: " << local_base << output.value.substr(a.translation->api_endpoint.size()) << ")";
        break;
      }
      std::cout << "\n";
    }
  }
  std::cout << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "store") return store_command(argc, argv);
  if (argc > 1 && std::string_view(argv[1]) == "explain") return explain_command(argc, argv);
  if (argc > 1 && std::string_view(argv[1]) == "template") return template_command(argc, argv);
  const arguments args = parse(argc, argv);

  // Every thread the server starts (I/O, workers, the store's and the logs' writers) inherits
  // this mask, so SIGINT and SIGTERM reach only the sigwait below: block them before any exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto loaded = load_apis(args.source);
  if (!loaded) {
    std::cerr << "apigw-ws-emulator: " << loaded.error() << "\n";
    return 2;
  }
  auto& apis = *loaded;
  const auto registry = apigw::handler_registry::with_builtins();
  // Several APIs (of templates): one port each, from --port on (or the config's port on), and one
  // store, so that their functions and clients see the same tables.
  apigw::emulator::server_options options = args.server;
  if (apis.size() > 1) {
    std::vector<const apigw::config::api_spec*> specs;
    for (const auto& a : apis) specs.push_back(&a.api);
    auto store = apigw::emulator::server::open_store(specs, options);
    if (!store) {
      std::cerr << "apigw-ws-emulator: " << store.error() << "\n";
      return 2;
    }
    options.shared_store = *std::move(store);
  }
  std::vector<std::unique_ptr<apigw::emulator::server>> servers;
  for (std::size_t i = 0; i < apis.size(); ++i) {
    apigw::emulator::server_options own = options;
    const int first_port = options.port >= 0 ? options.port : apis[i].api.server.port;
    own.port = first_port == 0 ? 0 : first_port + static_cast<int>(i);
    auto made = apigw::emulator::server::create(apis[i].api, registry, own);
    if (!made) {
      std::cerr << "apigw-ws-emulator: " << made.error() << "\n";
      return 2;
    }
    servers.push_back(*std::move(made));
    if (auto started = servers.back()->start(); !started) {
      std::cerr << "apigw-ws-emulator: " << started.error() << "\n";
      return 2;
    }
  }
  std::vector<served_translation> translations;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    const std::string url = servers[i]->url();
    std::cout << "listening on " << url;
    if (servers.size() > 1) {
      std::cout << " (" << (args.source.template_files.size() > 1 ? apis[i].api.source + ": " : "")
                << apis[i].from_template->api_logical_id << ")";
    }
    std::cout << std::endl;
    // The same port serves DynamoDB and @connections over HTTP (docs/store.md, docs/management-api.md).
    const std::string http = "http" + url.substr(2, url.find('/', 5) - 2);
    std::cout << "DynamoDB and @connections: " << http << " (e.g. aws dynamodb list-tables --endpoint-url " << http
              << ")" << std::endl;
    if (apis[i].from_template) translations.push_back({&*apis[i].from_template, apis[i].api.source, url});
  }
  if (!translations.empty()) print_template_notes(translations);

  int received = 0;
  sigwait(&signals, &received);
  for (auto& server : servers) server->stop();
  return 0;
}
