#include "templates/template_loader.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "config/config_loader.hpp"
#include "templates/intrinsics.hpp"
#include "templates/template_node.hpp"

namespace apigw::templates {
namespace {

namespace rj = rapidjson;

constexpr std::string_view kAccount = "123456789012";
constexpr std::string_view kSamTransform = "AWS::Serverless-2016-10-31";

constexpr std::array<std::string_view, 11> kSections = {
    "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules",   "Mappings",
    "Conditions",               "Transform",   "Resources", "Outputs",   "Globals"};

// The resource types the emulator reads; every other type is listed at start-up and ignored.
constexpr std::string_view kApi = "AWS::ApiGatewayV2::Api";
constexpr std::string_view kRoute = "AWS::ApiGatewayV2::Route";
constexpr std::string_view kRouteResponse = "AWS::ApiGatewayV2::RouteResponse";
constexpr std::string_view kIntegration = "AWS::ApiGatewayV2::Integration";
constexpr std::string_view kAuthorizer = "AWS::ApiGatewayV2::Authorizer";
constexpr std::string_view kStage = "AWS::ApiGatewayV2::Stage";
constexpr std::string_view kDeployment = "AWS::ApiGatewayV2::Deployment";
constexpr std::string_view kSamFunction = "AWS::Serverless::Function";
constexpr std::string_view kLambdaFunction = "AWS::Lambda::Function";
constexpr std::string_view kTable = "AWS::DynamoDB::Table";
constexpr std::string_view kSimpleTable = "AWS::Serverless::SimpleTable";
constexpr std::string_view kRole = "AWS::IAM::Role";
constexpr std::string_view kSamLayer = "AWS::Serverless::LayerVersion";
constexpr std::string_view kLambdaLayer = "AWS::Lambda::LayerVersion";
// Made by SAM for a function without Role: "<Function>Role".
constexpr std::string_view kImplicitRole = "AWS::IAM::Role (made by SAM)";

// CloudFormation's return values: the attributes Fn::GetAtt takes, by type.
const std::map<std::string_view, std::vector<std::string_view>>& attributes_by_type() {
  static const std::map<std::string_view, std::vector<std::string_view>> attributes = {
      {kApi, {"ApiEndpoint", "ApiId"}},
      {kRoute, {"RouteId"}},
      {kRouteResponse, {"RouteResponseId"}},
      {kIntegration, {"IntegrationId"}},
      {kAuthorizer, {"AuthorizerId"}},
      {kStage, {}},
      {kDeployment, {"DeploymentId"}},
      {kSamFunction, {"Arn"}},
      {kLambdaFunction, {"Arn"}},
      {kTable, {"Arn", "StreamArn"}},
      {kSimpleTable, {"Arn", "StreamArn"}},
      {kRole, {"Arn", "RoleId"}},
      {kSamLayer, {}},
      {kLambdaLayer, {"LayerVersionArn"}},
      {kImplicitRole, {"Arn", "RoleId"}},
  };
  return attributes;
}

// AWS managed policies a function's role may name (by name or ARN), as IAM documents them.
struct managed_policy {
  std::string_view name;
  std::string_view arn;
  std::vector<std::string_view> actions;
  std::string_view resource;
};

const std::vector<managed_policy>& managed_policies() {
  static const std::vector<managed_policy> policies = {
      {"AWSLambdaBasicExecutionRole",
       "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
       {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
       "*"},
      {"AWSLambdaDynamoDBExecutionRole",
       "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",
       {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams",
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
       "*"},
      {"AmazonAPIGatewayInvokeFullAccess",
       "arn:aws:iam::aws:policy/AmazonAPIGatewayInvokeFullAccess",
       {"execute-api:Invoke", "execute-api:ManageConnections"},
       "arn:aws:execute-api:*:*:*"},
      {"AmazonDynamoDBFullAccess", "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess", {"dynamodb:*"}, "*"},
  };
  return policies;
}

// SAM's policy templates: the parameter each takes, the actions, and whether the resource is a
// table (with its indexes) or a function.
struct policy_template {
  std::string_view name;
  std::string_view parameter;
  std::vector<std::string_view> actions;
};

const std::vector<policy_template>& policy_templates() {
  static const std::vector<policy_template> templates = {
      {"DynamoDBCrudPolicy",
       "TableName",
       {"dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query",
        "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable",
        "dynamodb:ConditionCheckItem"}},
      {"DynamoDBReadPolicy",
       "TableName",
       {"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"}},
      {"DynamoDBWritePolicy", "TableName", {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}},
      {"LambdaInvokePolicy", "FunctionName", {"lambda:InvokeFunction"}},
  };
  return templates;
}

template <class List, class Name>
std::string names_of(const List& list, Name name) {
  std::string out;
  for (const auto& item : list) {
    if (!out.empty()) out += ", ";
    out += name(item);
  }
  return out;
}

// A stable id for a resource, like API Gateway's ("abcd123"): 7 lowercase letters and digits.
std::string short_id(std::string_view logical_id) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const char c : logical_id) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(7, 'a');
  for (char& c : id) {
    c = alphabet[h % alphabet.size()];
    h /= alphabet.size();
  }
  return id;
}

bool is_true(const node& n) {
  return n.is_string() && (n.text == "true" || n.text == "True" || n.text == "TRUE");
}
bool is_false(const node& n) {
  return n.is_string() && (n.text == "false" || n.text == "False" || n.text == "FALSE");
}

// TEXT as a JSON number ("5", "2.5", "-1e3"; not "010" or " 5"), or nullopt.
std::optional<rj::Document> json_number(const std::string& text) {
  rj::Document number;
  number.Parse(text.c_str(), text.size());
  if (number.HasParseError() || !number.IsNumber()) return std::nullopt;
  return number;
}

bool looks_numeric(const std::string& text) { return json_number(text).has_value(); }

// "Circular dependency between resources: [A, B]", the names sorted as CloudFormation lists them.
std::string circular(std::vector<std::string> cycle) {
  std::sort(cycle.begin(), cycle.end());
  std::string names;
  for (const auto& n : cycle) names += (names.empty() ? "" : ", ") + n;
  return "Circular dependency between resources: [" + names + "]";
}

// A resolved node as JSON: unquoted numbers and booleans become JSON numbers and booleans.
rj::Value to_json(const node& n, rj::Document::AllocatorType& a) {
  switch (n.type) {
    case node::kind::null:
      return rj::Value(rj::kNullType);
    case node::kind::string: {
      if (n.plain && is_true(n)) return rj::Value(true);
      if (n.plain && is_false(n)) return rj::Value(false);
      if (n.plain) {
        if (auto number = json_number(n.text)) return rj::Value(*number, a);
      }
      return rj::Value(n.text.c_str(), static_cast<rj::SizeType>(n.text.size()), a);
    }
    case node::kind::sequence: {
      rj::Value out(rj::kArrayType);
      for (const node& item : n.items) out.PushBack(to_json(item, a), a);
      return out;
    }
    case node::kind::mapping: {
      rj::Value out(rj::kObjectType);
      for (const auto& [key, value] : n.members) {
        out.AddMember(rj::Value(key.c_str(), static_cast<rj::SizeType>(key.size()), a), to_json(value, a), a);
      }
      return out;
    }
  }
  return rj::Value(rj::kNullType);
}

rj::Value json_string(std::string_view s, rj::Document::AllocatorType& a) {
  return rj::Value(s.data(), static_cast<rj::SizeType>(s.size()), a);
}

struct resource {
  std::string id;
  std::string type;
  const node* definition = nullptr;
  const node* properties = nullptr;  // nullptr when the resource has none
  bool implicit = false;             // made by SAM (a function's role)
};

// A function of the template, as the emulator's "lambda" integration.
struct function_entry {
  std::string name;  // the integration's (and the function's) name
  rj::Value json;
};

class translator {
 public:
  translator(std::string source, std::filesystem::path base_dir, const node& root, const template_options& options)
      : source_(std::move(source)), base_dir_(std::move(base_dir)), root_(root), options_(options) {}

  result<translated_template> run() {
    if (auto s = prepare(); !s) return s;
    if (auto s = check_dependencies(); !s) return s;
    return translate();
  }

  // The logical ids of the template's WebSocket APIs, in the file's order.
  result<std::vector<std::string>> api_ids() {
    if (auto s = prepare(); !s) return s;
    auto apis = websocket_apis();
    if (!apis) return apis.status();
    std::vector<std::string> ids;
    for (const resource* a : *apis) ids.push_back(a->id);
    return ids;
  }

 private:
  // ---- messages ---------------------------------------------------------------------------

  std::string where(const node& n, const std::string& path) const { return location(source_, n, path); }
  failure error(const node& n, const std::string& path, const std::string& message) const {
    return fail(where(n, path) + message);
  }
  static std::string props_path(const resource& r) { return "Resources." + r.id + ".Properties"; }

  // ---- sections and parameters -------------------------------------------------------------

  // The sections checked, the parameters read, the resources known, the APIs named.
  status prepare() {
    if (auto s = check_sections(); !s) return s;
    if (auto s = read_parameters(); !s) return s;
    make_evaluator();
    if (auto s = read_resources(); !s) return s;
    // The WebSocket APIs' ids in the file's order: two APIs of one Name get different ids.
    for (const std::string& id : order_) {
      if (resources_.at(id).type != kApi) continue;
      auto name = physical_name(id, *resources_.at(id).definition, "Resources." + id);
      if (!name) return name.status();
    }
    return status::ok();
  }

  status check_sections() {
    for (const auto& [key, value] : root_.members) {
      if (std::find(kSections.begin(), kSections.end(), key) == kSections.end()) {
        return error(value, "", "unknown section " + key + "; a template has " +
                                     names_of(kSections, [](std::string_view s) { return std::string(s); }));
      }
    }
    const node* resources = root_.find("Resources");
    if (resources == nullptr || !resources->is_mapping() || resources->members.empty()) {
      return error(resources ? *resources : root_, "Resources",
                   "a template needs a Resources section with at least one resource");
    }
    if (const node* transform = root_.find("Transform")) {
      const auto names_sam = [](const node& t) { return t.is_string() && t.text == kSamTransform; };
      sam_ = names_sam(*transform) ||
             (transform->is_sequence() && std::any_of(transform->items.begin(), transform->items.end(), names_sam));
    }
    return status::ok();
  }

  status read_parameters() {
    const std::string region = options_.region;
    std::string stack = options_.stack_name;
    if (stack.empty()) {
      stack = std::filesystem::absolute(base_dir_).lexically_normal().filename().string();
      if (stack.empty()) stack = "local";
    }
    const auto pseudo = [&](std::string name, std::string value) {
      parameters_.emplace(std::move(name), node::string(std::move(value)));
    };
    pseudo("AWS::Region", region);
    pseudo("AWS::AccountId", std::string(kAccount));
    pseudo("AWS::StackName", stack);
    pseudo("AWS::StackId", "arn:aws:cloudformation:" + region + ":" + std::string(kAccount) + ":stack/" + stack +
                               "/00000000-0000-4000-8000-000000000000");
    pseudo("AWS::Partition", "aws");
    pseudo("AWS::URLSuffix", "amazonaws.com");
    node notification;
    notification.type = node::kind::sequence;
    parameters_.emplace("AWS::NotificationARNs", std::move(notification));

    const node* declared = root_.find("Parameters");
    if (declared != nullptr && !declared->is_mapping()) {
      return error(*declared, "Parameters", "Parameters must be a map of NAME: {Type, Default, ...}");
    }
    for (const auto& [key, value] : options_.parameter_overrides) {
      if ((declared == nullptr || declared->find(key) == nullptr) && !options_.overrides_for_several_templates) {
        return fail(source_ + ": Parameters: [" + key + "] do not exist in the template" +
                    (declared ? " (it declares " +
                                    names_of(declared->members, [](const auto& m) { return m.first; }) + ")"
                              : ""));
      }
    }
    if (declared == nullptr) return status::ok();
    for (const auto& [name, spec] : declared->members) {
      const std::string path = "Parameters." + name;
      if (!spec.is_mapping()) return error(spec, path, "a parameter is a map with Type (and Default, ...)");
      const node* type = spec.find("Type");
      if (type == nullptr || !type->is_string()) {
        return error(spec, path, "a parameter needs a Type: String, Number, CommaDelimitedList, List<Number>, ...");
      }
      std::optional<std::string> value;
      for (const auto& [key, given] : options_.parameter_overrides) {
        if (key == name) value = given;
      }
      if (!value) {
        const node* fallback = spec.find("Default");
        if (fallback == nullptr) {
          return error(spec, path, "Parameters: [" + name + "] must have values: give it a Default or --parameter-overrides " +
                                       name + "=VALUE");
        }
        if (!fallback->is_string()) return error(*fallback, path + ".Default", "a Default is a string or number");
        value = fallback->text;
      }
      if (auto s = check_constraints(name, spec, *value, path); !s) return s;
      const std::string& t = type->text;
      if (t == "CommaDelimitedList" || t.starts_with("List<")) {
        node list;
        list.type = node::kind::sequence;
        std::size_t start = 0;
        while (true) {
          const std::size_t comma = value->find(',', start);
          std::string item = value->substr(start, comma == std::string::npos ? comma : comma - start);
          // CloudFormation trims the spaces around each item.
          item.erase(0, item.find_first_not_of(' '));
          item.erase(item.find_last_not_of(' ') + 1);
          list.items.push_back(node::string(std::move(item)));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
        parameters_.emplace(name, std::move(list));
      } else if (t == "Number") {
        if (!looks_numeric(*value)) {
          return error(spec, path, "Parameter '" + name + "' must be a number, not \"" + *value + "\"");
        }
        node number = node::string(*value);
        number.plain = true;
        parameters_.emplace(name, std::move(number));
      } else if (t == "String" || t.starts_with("AWS::EC2::") || t.starts_with("AWS::Route53::")) {
        parameters_.emplace(name, node::string(*value));
      } else {
        return error(*type, path + ".Type",
                     "type " + t + " is not read by the emulator (String, Number, CommaDelimitedList, List<...>, "
                     "AWS::EC2::*; SSM parameter types need AWS Systems Manager: give the value with "
                     "--parameter-overrides and make the Type String)");
      }
    }
    return status::ok();
  }

  status check_constraints(const std::string& name, const node& spec, const std::string& value,
                           const std::string& path) {
    const node* description = spec.find("ConstraintDescription");
    const auto refuse = [&](const std::string& reason) -> status {
      const std::string why = description && description->is_string()
                                  ? "Parameter " + name + " failed to satisfy constraint: " + description->text
                                  : reason;
      return error(spec, path, why + " (value: \"" + value + "\")");
    };
    if (const node* allowed = spec.find("AllowedValues")) {
      if (!allowed->is_sequence()) return error(*allowed, path + ".AllowedValues", "AllowedValues is a list");
      const bool found = std::any_of(allowed->items.begin(), allowed->items.end(),
                                     [&](const node& v) { return v.is_string() && v.text == value; });
      if (!found) return refuse("Parameter '" + name + "' must be one of AllowedValues");
    }
    // CloudFormation's limit, which also bounds the work of AllowedPattern's regular expression.
    constexpr std::size_t max_value_bytes = 4096;
    if (value.size() > max_value_bytes) {
      return error(spec, path, "Parameter '" + name + "' is longer than CloudFormation's 4096 bytes");
    }
    if (const node* pattern = spec.find("AllowedPattern")) {
      if (!pattern->is_string()) return error(*pattern, path + ".AllowedPattern", "AllowedPattern is a string");
      try {
        if (!std::regex_match(value, std::regex(pattern->text, std::regex::ECMAScript))) {
          return refuse("Parameter '" + name + "' must match pattern " + pattern->text);
        }
      } catch (const std::regex_error&) {
        return error(*pattern, path + ".AllowedPattern", "\"" + pattern->text + "\" is not a regular expression");
      }
    }
    const auto bound = [&](std::string_view key) -> std::optional<double> {
      const node* n = spec.find(key);
      if (n == nullptr || !n->is_string() || !looks_numeric(n->text)) return std::nullopt;
      return std::stod(n->text);
    };
    if (auto min = bound("MinLength"); min && static_cast<double>(value.size()) < *min) {
      return refuse("Parameter '" + name + "' must contain at least " + spec.find("MinLength")->text + " characters");
    }
    if (auto max = bound("MaxLength"); max && static_cast<double>(value.size()) > *max) {
      return refuse("Parameter '" + name + "' must contain at most " + spec.find("MaxLength")->text + " characters");
    }
    if (looks_numeric(value)) {
      const double number = std::stod(value);
      if (auto min = bound("MinValue"); min && number < *min) {
        return refuse("Parameter '" + name + "' must be a number not less than " + spec.find("MinValue")->text);
      }
      if (auto max = bound("MaxValue"); max && number > *max) {
        return refuse("Parameter '" + name + "' must be a number not greater than " + spec.find("MaxValue")->text);
      }
    }
    return status::ok();
  }

  // ---- the evaluator's view of the resources -------------------------------------------------

  void make_evaluator() {
    evaluator::hooks h;
    h.has_resource = [this](std::string_view id) {
      return resources_.contains(std::string(id)) || skipped_.contains(std::string(id));
    };
    h.ref = [this](std::string_view id, const node& at, const std::string& path) { return ref(id, at, path); };
    h.get_att = [this](std::string_view id, std::string_view attribute, const node& at, const std::string& path) {
      return get_att(id, attribute, at, path);
    };
    h.condition = [this](std::string_view name, const node& at, const std::string& path) {
      return condition(name, at, path);
    };
    h.known_names = [this] {
      std::string out = "parameters: ";
      const node* declared = root_.find("Parameters");
      out += declared && !declared->members.empty()
                 ? names_of(declared->members, [](const auto& m) { return m.first; })
                 : "none";
      out += "; resources: " + names_of(resources_, [](const auto& r) { return r.first; });
      return out;
    };
    eval_.emplace(source_, parameters_, root_.find("Mappings"), options_.region, std::move(h));
  }

  result<bool> condition(std::string_view name, const node& at, const std::string& path) {
    const std::string key(name);
    if (auto known = conditions_.find(key); known != conditions_.end()) return known->second;
    const node* all = root_.find("Conditions");
    const node* definition = all ? all->find(name) : nullptr;
    if (definition == nullptr) {
      return error(at, path, "no condition is named " + key +
                                 (all && !all->members.empty()
                                      ? " (Conditions: " + names_of(all->members, [](const auto& m) { return m.first; }) + ")"
                                      : " (the template has no Conditions)"));
    }
    if (!evaluating_conditions_.insert(key).second) {
      return error(*definition, "Conditions." + key, "condition " + key + " refers to itself");
    }
    auto value = eval_->truth(*definition, "Conditions." + key);
    evaluating_conditions_.erase(key);
    if (!value) return value;
    conditions_.emplace(key, *value);
    return value;
  }

  status read_resources() {
    const node& all = *root_.find("Resources");
    for (const auto& [id, definition] : all.members) {
      const std::string path = "Resources." + id;
      if (!definition.is_mapping()) return error(definition, path, "a resource is a map with Type and Properties");
      const node* type = definition.find("Type");
      if (type == nullptr || !type->is_string()) {
        return error(definition, path, "a resource needs a Type, e.g. AWS::ApiGatewayV2::Route");
      }
      if (type->text.starts_with("AWS::Serverless::") && !sam_) {
        return error(*type, path + ".Type",
                     "Unrecognized resource types: [" + type->text + "]: SAM's types need "
                     "Transform: AWS::Serverless-2016-10-31 at the top of the template");
      }
      if (const node* when = definition.find("Condition")) {
        if (!when->is_string()) return error(*when, path + ".Condition", "Condition names a condition");
        auto holds = condition(when->text, *when, path + ".Condition");
        if (!holds) return holds.status();
        if (!*holds) {
          skipped_.insert(id);
          continue;
        }
      }
      const node* properties = definition.find("Properties");
      if (properties != nullptr && !properties->is_mapping()) {
        return error(*properties, path + ".Properties", "Properties is a map");
      }
      resources_.emplace(id, resource{id, type->text, &definition, properties, false});
      order_.push_back(id);
    }
    // SAM makes a role for each function that names none: "<Function>Role".
    std::vector<resource> implicit;
    for (const auto& [id, r] : resources_) {
      if (r.type == kSamFunction && (r.properties == nullptr || r.properties->find("Role") == nullptr) &&
          !resources_.contains(id + "Role")) {
        implicit.push_back(resource{id + "Role", std::string(kImplicitRole), r.definition, nullptr, true});
      }
    }
    for (auto& r : implicit) resources_.emplace(r.id, std::move(r));
    return status::ok();
  }

  // DependsOn and the references of each resource (Ref, Fn::GetAtt, ${...} in Fn::Sub) must form
  // no cycle, as CloudFormation requires.
  status check_dependencies() {
    std::map<std::string, std::set<std::string>> edges;
    for (const auto& [id, r] : resources_) {
      if (r.implicit) continue;
      auto& out = edges[id];
      if (const node* depends = r.definition->find("DependsOn")) {
        std::vector<const node*> names;
        if (depends->is_string()) names.push_back(depends);
        for (const node& n : depends->items) names.push_back(&n);
        for (const node* n : names) {
          if (!n->is_string()) return error(*n, "Resources." + id + ".DependsOn", "DependsOn names resources");
          if (!resources_.contains(n->text) && !skipped_.contains(n->text)) {
            return error(*n, "Resources." + id + ".DependsOn",
                         "Template format error: Unresolved resource dependencies [" + n->text +
                             "] in the Resources block of the template");
          }
          out.insert(n->text);
        }
      }
      if (r.properties != nullptr) collect_references(*r.properties, out);
    }
    // Depth-first search; a resource met again on the current path closes a cycle.
    std::map<std::string, int> state;  // 0 new, 1 on the path, 2 done
    std::vector<std::string> path;
    std::function<std::optional<std::vector<std::string>>(const std::string&)> visit =
        [&](const std::string& id) -> std::optional<std::vector<std::string>> {
      state[id] = 1;
      path.push_back(id);
      for (const std::string& next : edges[id]) {
        if (!edges.contains(next)) continue;
        if (state[next] == 1) {
          return std::vector<std::string>(std::find(path.begin(), path.end(), next), path.end());
        }
        if (state[next] == 0) {
          if (auto cycle = visit(next)) return cycle;
        }
      }
      path.pop_back();
      state[id] = 2;
      return std::nullopt;
    };
    for (const auto& [id, targets] : edges) {
      if (state[id] != 0) continue;
      if (auto cycle = visit(id)) return fail(source_ + ": " + circular(*std::move(cycle)));
    }
    return status::ok();
  }

  void collect_references(const node& n, std::set<std::string>& out) const {
    if (n.is_mapping() && n.members.size() == 1) {
      const auto& [key, argument] = n.members[0];
      if (key == "Ref" && argument.is_string() && resources_.contains(argument.text)) out.insert(argument.text);
      if (key == "Fn::GetAtt" && argument.is_sequence() && !argument.items.empty() && argument.items[0].is_string()) {
        out.insert(argument.items[0].text);
      }
      if (key == "Fn::Sub") {
        // ${LogicalId} and ${LogicalId.Attribute}.
        const node* text = argument.is_sequence() && !argument.items.empty() ? &argument.items[0] : &argument;
        const node* variables = argument.is_sequence() && argument.items.size() > 1 ? &argument.items[1] : nullptr;
        for (std::size_t open = text->is_string() ? text->text.find("${") : std::string::npos;
             open != std::string::npos; open = text->text.find("${", open + 2)) {
          const std::size_t end = text->text.find_first_of(".}", open + 2);
          if (end == std::string::npos) break;
          const std::string name = text->text.substr(open + 2, end - open - 2);
          if (resources_.contains(name) && (variables == nullptr || variables->find(name) == nullptr)) out.insert(name);
        }
      }
    }
    for (const node& item : n.items) collect_references(item, out);
    for (const auto& [key, value] : n.members) collect_references(value, out);
  }

  // ---- Ref and Fn::GetAtt of resources -----------------------------------------------------

  // MAP's member KEY (MAP may be null), resolved; nullopt when it is absent or AWS::NoValue.
  // PATH names MAP in messages.
  result<std::optional<node>> member(const node* map, std::string_view key, const std::string& path) {
    const node* n = map != nullptr ? map->find(key) : nullptr;
    if (n == nullptr) return std::optional<node>();
    auto value = eval_->resolve(*n, path + "." + std::string(key));
    if (!value) return value.status();
    if (is_no_value(*value)) return std::optional<node>();
    return std::optional<node>(std::move(*value));
  }

  // The same, which must be a string when present.
  result<std::optional<node>> string_member(const node* map, std::string_view key, const std::string& path) {
    auto value = member(map, key, path);
    if (value && *value && !(*value)->is_string()) {
      return error(**value, path + "." + std::string(key), "must be a string, not " + std::string(describe(**value)));
    }
    return value;
  }

  // A property's value, resolved; nullopt when the resource does not set it.
  result<std::optional<node>> property(const resource& r, std::string_view key) {
    return member(r.properties, key, props_path(r));
  }

  result<std::optional<std::string>> string_property(const resource& r, std::string_view key) {
    auto value = string_member(r.properties, key, props_path(r));
    if (!value) return value.status();
    if (!*value) return std::optional<std::string>();
    return std::optional<std::string>((*value)->text);
  }

  // A Ref or GetAtt of a resource whose Condition is false is an error.
  status created(std::string_view id, const node& at, const std::string& path) const {
    if (!skipped_.contains(std::string(id))) return status::ok();
    const node* when = root_.find("Resources")->find(id)->find("Condition");
    return error(at, path, std::string(id) + " is not created: its Condition " + when->text +
                               " is false (refer to it inside Fn::If [" + when->text + ", ...])");
  }

  // What Ref gives: a name (functions, tables, roles, stages), an id (APIs, routes, ...), an ARN
  // (layer versions).
  result<node> ref(std::string_view id, const node& at, const std::string& path) {
    if (auto s = created(id, at, path); !s) return s;
    auto value = physical_name(std::string(id), at, path);
    if (!value) return value;
    const std::string& type = resources_.at(std::string(id)).type;
    if (type == kSamLayer || type == kLambdaLayer) value->text = layer_arn(value->text);  // a layer's Ref is its ARN
    value->line = at.line;
    value->column = at.column;
    return value;
  }

  std::string layer_arn(const std::string& name) const {
    return "arn:aws:lambda:" + options_.region + ":" + std::string(kAccount) + ":layer:" + name + ":1";
  }

  result<node> physical_name(const std::string& id, const node& at, const std::string& path) {
    if (auto known = names_.find(id); known != names_.end()) return node::string(known->second);
    const resource& r = resources_.at(id);
    if (std::find(naming_order_.begin(), naming_order_.end(), id) != naming_order_.end()) {
      return error(at, path,
                   circular(std::vector<std::string>(std::find(naming_order_.begin(), naming_order_.end(), id),
                                                     naming_order_.end())));
    }
    naming_order_.push_back(id);
    auto name = compute_name(r);
    naming_order_.pop_back();
    if (!name) return name;
    names_.emplace(id, name->text);
    return name;
  }

  result<node> compute_name(const resource& r) {
    const auto named_by = [&](std::string_view key) -> result<node> {
      auto given = string_property(r, key);
      if (!given) return given.status();
      return node::string(given->value_or(r.id));
    };
    if (r.type == kSamFunction || r.type == kLambdaFunction) return named_by("FunctionName");
    if (r.type == kTable || r.type == kSimpleTable) return named_by("TableName");
    if (r.type == kSamLayer || r.type == kLambdaLayer) return named_by("LayerName");
    if (r.type == kRole) return named_by("RoleName");
    if (r.type == kApi) {
      auto name = named_by("Name");
      if (!name) return name;
      std::string id = config::derive_api_id(name->text);
      for (const auto& [other, type] : api_ids_given_) {
        if (type == id) id = config::derive_api_id(name->text + "/" + r.id);  // another API has this Name
      }
      api_ids_given_.emplace_back(r.id, id);
      return node::string(std::move(id));
    }
    if (r.type == kStage) {
      auto name = string_property(r, "StageName");
      if (!name) return name.status();
      if (!*name) return error(*r.definition, props_path(r), "a stage needs a StageName");
      return node::string(**name);
    }
    if (r.implicit) return node::string(r.id);
    return node::string(short_id(r.id));
  }

  result<node> get_att(std::string_view id, std::string_view attribute, const node& at, const std::string& path) {
    if (auto s = created(id, at, path); !s) return s;
    const resource& r = resources_.at(std::string(id));
    const auto& table = attributes_by_type();
    const auto known = table.find(r.type);
    const std::string what = std::string(id) + "." + std::string(attribute);
    if (known == table.end()) {
      return error(at, path, "Fn::GetAtt " + what + ": " + r.type +
                                 " is not emulated, so its attributes have no value here (the emulated types: " +
                                 names_of(table, [](const auto& t) { return std::string(t.first); }) + ")");
    }
    if (std::find(known->second.begin(), known->second.end(), attribute) == known->second.end()) {
      return error(at, path, "Template error: resource " + std::string(id) + " does not support attribute type " +
                                 std::string(attribute) + " in Fn::GetAtt (" + r.type + " has " +
                                 (known->second.empty() ? std::string("none")
                                                        : names_of(known->second, [](std::string_view s) {
                                                            return std::string(s);
                                                          })) +
                                 ")");
    }
    auto name = physical_name(std::string(id), at, path);
    if (!name) return name;
    const std::string& region = options_.region;
    const std::string account(kAccount);
    std::string value;
    if (attribute == "Arn") {
      if (r.type == kSamFunction || r.type == kLambdaFunction) {
        value = "arn:aws:lambda:" + region + ":" + account + ":function:" + name->text;
      } else if (r.type == kTable || r.type == kSimpleTable) {
        value = "arn:aws:dynamodb:" + region + ":" + account + ":table/" + name->text;
      } else {
        value = "arn:aws:iam::" + account + ":role/" + name->text;
      }
    } else if (attribute == "StreamArn") {
      value = "arn:aws:dynamodb:" + region + ":" + account + ":table/" + name->text + "/stream/1970-01-01T00:00:00.000";
    } else if (attribute == "LayerVersionArn") {
      value = layer_arn(name->text);
    } else if (attribute == "ApiEndpoint") {
      value = "wss://" + name->text + ".execute-api." + region + ".amazonaws.com";
    } else if (attribute == "RoleId") {
      value = "AROA" + short_id(name->text + "1") + short_id(name->text + "2");
      std::transform(value.begin(), value.end(), value.begin(), [](unsigned char c) { return std::toupper(c); });
    } else {
      value = name->text;  // ApiId, RouteId, IntegrationId, ...
    }
    return node::string(std::move(value), at.line, at.column);
  }

  // ---- the translation -------------------------------------------------------------------------

  result<translated_template> translate() {
    // The WebSocket API to serve.
    auto found = websocket_apis();
    if (!found) return found.status();
    const std::vector<const resource*>& apis = *found;
    const resource* api = nullptr;
    if (!options_.api.empty()) {
      for (const resource* a : apis) {
        if (a->id == options_.api) api = a;
      }
      if (api == nullptr) {
        return fail(source_ + ": --api " + options_.api + ": no WebSocket API of that logical id (the template's: " +
                    names_of(apis, [](const resource* a) { return a->id; }) + ")");
      }
    } else if (apis.size() > 1) {
      return fail(source_ + ": the template has " + std::to_string(apis.size()) + " WebSocket APIs (" +
                  names_of(apis, [](const resource* a) { return a->id; }) +
                  "): choose one with --api LOGICAL_ID (the emulator's server serves each on a port of its own)");
    } else {
      api = apis[0];
    }
    for (const resource* a : apis) {
      if (a != api && !options_.serve_every_api) {
        not_emulated_.push_back(a->id + " (" + a->type + ": not served, --api " + a->id + " serves it)");
      }
    }
    if (auto s = read_api(*api); !s) return s;

    // Every resource, by type.
    for (const auto& [id, r] : resources_) {
      status s = status::ok();
      if (r.type == kApi || r.implicit || r.type == kSamFunction || r.type == kLambdaFunction || r.type == kRole ||
          r.type == kSamLayer || r.type == kLambdaLayer) {
        continue;  // the API above; functions, roles and layers when a route or authorizer uses them
      } else if (r.type == kRoute || r.type == kIntegration || r.type == kAuthorizer || r.type == kStage ||
                 r.type == kRouteResponse || r.type == kDeployment) {
        auto mine = belongs_to_api(r);
        if (!mine) return mine.status();
        if (!*mine) {
          if (!options_.serve_every_api) not_emulated_.push_back(id + " (" + r.type + " of another API)");
          continue;
        }
        if (r.type == kIntegration) s = read_integration(r);
        if (r.type == kAuthorizer) s = read_authorizer(r);
        if (r.type == kStage) stages_.push_back(&r);
        if (r.type == kRouteResponse) s = read_route_response(r);
      } else if (r.type == kTable || r.type == kSimpleTable) {
        s = read_table(r);
      } else {
        not_emulated_.push_back(id + " (" + r.type + ")");
      }
      if (!s) return s;
    }
    // Routes last, in the file's order: their targets name the integrations read above.
    for (const std::string& id : order_) {
      const resource& r = resources_.at(id);
      if (r.type != kRoute) continue;
      auto mine = belongs_to_api(r);
      if (!mine) return mine.status();
      if (*mine) {
        if (auto s = read_route(r); !s) return s;
      }
    }
    if (auto s = read_stage(); !s) return s;
    if (auto s = read_outputs(); !s) return s;
    return finish();
  }

  // The template's WebSocket APIs, in the file's order; the other APIs are noted as not emulated.
  result<std::vector<const resource*>> websocket_apis() {
    std::vector<const resource*> apis;
    for (const std::string& id : order_) {
      const resource& r = resources_.at(id);
      if (r.type != kApi) continue;
      auto protocol = string_property(r, "ProtocolType");
      if (!protocol) return protocol.status();
      if (protocol->value_or("") == "WEBSOCKET") {
        apis.push_back(&r);
      } else {
        not_emulated_.push_back(id + " (" + r.type + ", ProtocolType " + protocol->value_or("none") +
                                ": the emulator serves WebSocket APIs)");
      }
    }
    if (apis.empty()) {
      return fail(source_ + ": no AWS::ApiGatewayV2::Api with ProtocolType: WEBSOCKET, so nothing to serve");
    }
    return apis;
  }

  status read_api(const resource& r) {
    const std::string path = props_path(r);
    if (r.properties != nullptr && (r.properties->find("Body") || r.properties->find("BodyS3Location"))) {
      return error(*r.definition, path,
                   "an API imported from an OpenAPI Body is not read; describe its routes with "
                   "AWS::ApiGatewayV2::Route and AWS::ApiGatewayV2::Integration");
    }
    auto name = string_property(r, "Name");
    if (!name) return name.status();
    auto selection = string_property(r, "RouteSelectionExpression");
    if (!selection) return selection.status();
    if (!*selection) {
      return error(*r.definition, path, "a WebSocket API needs a RouteSelectionExpression, e.g. $request.body.action");
    }
    auto api_id = physical_name(r.id, *r.definition, path);
    if (!api_id) return api_id.status();
    api_id_ = api_id->text;
    api_name_ = name->value_or(r.id);
    route_selection_ = **selection;
    if (auto key_selection = string_property(r, "ApiKeySelectionExpression"); !key_selection) {
      return key_selection.status();
    } else if (*key_selection && **key_selection != "$request.header.x-api-key") {
      return error(*r.properties->find("ApiKeySelectionExpression"), path + ".ApiKeySelectionExpression",
                   "the emulator reads API keys from $request.header.x-api-key only");
    }
    return status::ok();
  }

  result<bool> belongs_to_api(const resource& r) {
    auto api = string_property(r, "ApiId");
    if (!api) return api.status();
    if (!*api) return error(*r.definition, props_path(r), "needs an ApiId (!Ref of the AWS::ApiGatewayV2::Api)");
    return **api == api_id_;
  }

  // The function an integration or authorizer URI names: "…/functions/arn:aws:lambda:…:function:NAME/invocations"
  // or the function's ARN itself.
  result<const resource*> function_named_in(const resource& r, std::string_view key) {
    auto uri = string_property(r, key);
    if (!uri) return uri.status();
    const std::string path = props_path(r) + "." + std::string(key);
    if (!*uri) return error(*r.definition, props_path(r), "needs " + std::string(key) + " (the Lambda function's invocation URI)");
    // The function's ARN, arn:aws:lambda:REGION:ACCOUNT:function:NAME, ends at ':' (a qualifier) or '/'.
    const std::string& text = **uri;
    const std::size_t arn = text.find(":lambda:", text.find("arn:aws"));
    const std::size_t marker = arn == std::string::npos ? arn : text.find(":function:", arn);
    const std::size_t begin = marker == std::string::npos ? marker : marker + std::string_view(":function:").size();
    const std::string name =
        begin == std::string::npos ? std::string() : text.substr(begin, text.find_first_of(":/", begin) - begin);
    if (name.empty()) {
      return error(*r.properties->find(key), path,
                   "\"" + text + "\" names no Lambda function; write "
                   "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${MyFunction.Arn}/invocations");
    }
    std::string functions;
    for (const auto& [id, candidate] : resources_) {
      if (candidate.type != kSamFunction && candidate.type != kLambdaFunction) continue;
      auto candidate_name = physical_name(id, *candidate.definition, "Resources." + id);
      if (!candidate_name) return candidate_name.status();
      if (candidate_name->text == name) return &candidate;
      functions += (functions.empty() ? "" : ", ") + candidate_name->text;
    }
    return error(*r.properties->find(key), path,
                 "function " + name + " is not a function of this template (its functions: " +
                     (functions.empty() ? "none" : functions) + ")");
  }

  status read_integration(const resource& r) {
    auto type = string_property(r, "IntegrationType");
    if (!type) return type.status();
    const std::string path = props_path(r);
    const std::string kind = type->value_or("");
    if (kind == "AWS_PROXY" || kind == "AWS") {
      auto function = function_named_in(r, "IntegrationUri");
      if (!function) return function.status();
      auto name = use_function(**function);
      if (!name) return name.status();
      integration_names_.emplace(r.id, name->text);
      return status::ok();
    }
    if (kind == "MOCK") {
      if (auto s = name_is_free(r.id, r); !s) return s;
      rj::Value mock(rj::kObjectType);
      auto& a = config_.GetAllocator();
      mock.AddMember("type", "builtin", a);
      mock.AddMember("handler", "mock", a);
      rj::Value options(rj::kObjectType);
      options.AddMember("statusCode", 200, a);
      mock.AddMember("options", options, a);
      integrations_.emplace(r.id, std::move(mock));
      integration_names_.emplace(r.id, r.id);
      mocks_.insert(r.id);
      return status::ok();
    }
    const node* written = r.properties ? r.properties->find("IntegrationType") : nullptr;
    return error(written ? *written : *r.definition, path + ".IntegrationType",
                 "\"" + kind + "\": the emulator runs AWS_PROXY (a Lambda function of the template) and MOCK integrations");
  }

  status read_authorizer(const resource& r) {
    const std::string path = props_path(r);
    auto type = string_property(r, "AuthorizerType");
    if (!type) return type.status();
    if (type->value_or("") != "REQUEST") {
      return error(*r.definition, path + ".AuthorizerType", "a WebSocket API's authorizer is REQUEST (a Lambda function)");
    }
    auto function = function_named_in(r, "AuthorizerUri");
    if (!function) return function.status();
    auto name = use_function(**function);
    if (!name) return name.status();
    auto& a = config_.GetAllocator();
    rj::Value authorizer(rj::kObjectType);
    authorizer.AddMember("function", json_string(name->text, a), a);
    rj::Value sources(rj::kArrayType);
    auto identity = property(r, "IdentitySource");
    if (!identity) return identity.status();
    if (*identity) {
      if (!(*identity)->is_sequence()) {
        return error(**identity, path + ".IdentitySource", "a list, e.g. [route.request.querystring.token]");
      }
      for (const node& source : (*identity)->items) {
        if (!source.is_string()) return error(source, path + ".IdentitySource", "each identity source is a string");
        sources.PushBack(json_string(source.text, a), a);
      }
    }
    authorizer.AddMember("identitySource", sources, a);
    authorizers_.emplace(r.id, std::move(authorizer));
    return status::ok();
  }

  status read_route_response(const resource& r) {
    auto key = string_property(r, "RouteResponseKey");
    if (!key) return key.status();
    if (key->value_or("") != "$default") {
      const node* written = r.properties ? r.properties->find("RouteResponseKey") : nullptr;
      return error(written ? *written : *r.definition, props_path(r) + ".RouteResponseKey",
                   "a WebSocket route response's key is $default");
    }
    return status::ok();
  }

  status read_route(const resource& r) {
    const std::string path = props_path(r);
    auto& a = config_.GetAllocator();
    rj::Value route(rj::kObjectType);
    auto key = string_property(r, "RouteKey");
    if (!key) return key.status();
    if (!*key) return error(*r.definition, path, "a route needs a RouteKey ($connect, $disconnect, $default or a name)");
    route.AddMember("routeKey", json_string(**key, a), a);
    auto target = string_property(r, "Target");
    if (!target) return target.status();
    if (!*target) {
      return error(*r.definition, path,
                   "route " + **key + " has no Target; write Target: !Join [/, [integrations, !Ref MyIntegration]]");
    }
    std::string integration;
    if (target->value().starts_with("integrations/")) {
      const std::string integration_id = target->value().substr(std::string_view("integrations/").size());
      for (const auto& [id, name] : integration_names_) {
        if (short_id(id) == integration_id) integration = name;
      }
    }
    if (integration.empty()) {
      return error(*r.properties->find("Target"), path + ".Target",
                   "\"" + **target + "\" names no integration of this API (integrations/ID, where ID is the "
                   "Ref of an AWS::ApiGatewayV2::Integration: " +
                       names_of(integration_names_, [](const auto& e) { return e.first; }) + ")");
    }
    route.AddMember("integration", json_string(integration, a), a);
    auto authorization = string_property(r, "AuthorizationType");
    if (!authorization) return authorization.status();
    if (*authorization) route.AddMember("authorizationType", json_string(**authorization, a), a);
    auto authorizer = string_property(r, "AuthorizerId");
    if (!authorizer) return authorizer.status();
    if (*authorizer) {
      std::string found;
      for (const auto& [id, value] : authorizers_) {
        if (short_id(id) == **authorizer) found = id;
      }
      if (found.empty()) {
        return error(*r.properties->find("AuthorizerId"), path + ".AuthorizerId",
                     "\"" + **authorizer + "\" is no authorizer of this API (the Ref of an AWS::ApiGatewayV2::Authorizer)");
      }
      route.AddMember("authorizerId", json_string(found, a), a);
    }
    auto key_required = property(r, "ApiKeyRequired");
    if (!key_required) return key_required.status();
    if (*key_required) route.AddMember("apiKeyRequired", is_true(**key_required), a);
    auto response = string_property(r, "RouteResponseSelectionExpression");
    if (!response) return response.status();
    if (*response) route.AddMember("routeResponseSelectionExpression", json_string(**response, a), a);
    routes_.emplace_back(r.id, std::move(route));
    return status::ok();
  }

  status read_stage() {
    const resource* stage = nullptr;
    if (!options_.stage.empty()) {
      for (const resource* s : stages_) {
        auto name = physical_name(s->id, *s->definition, props_path(*s));
        if (!name) return name.status();
        if (name->text == options_.stage) stage = s;
      }
      if (stage == nullptr) {
        std::string known;
        for (const resource* s : stages_) known += (known.empty() ? "" : ", ") + names_.at(s->id);
        return fail(source_ + ": --stage " + options_.stage + ": the API has no such stage (its stages: " +
                    (known.empty() ? "none" : known) + ")");
      }
    } else if (stages_.size() > 1) {
      std::string known;
      for (const resource* s : stages_) {
        auto name = physical_name(s->id, *s->definition, props_path(*s));
        if (!name) return name.status();
        known += (known.empty() ? "" : ", ") + name->text;
      }
      return fail(source_ + ": the API has " + std::to_string(stages_.size()) + " stages (" + known +
                  "): choose one with --stage NAME");
    } else if (!stages_.empty()) {
      stage = stages_[0];
    }
    auto& a = config_.GetAllocator();
    stage_json_.SetObject();
    if (stage == nullptr) {
      // Decision: an API without a stage cannot be called on AWS; here it is served on "$default"'s
      // place by a stage named "dev", said at start-up.
      stage_name_ = "dev";
      not_emulated_.push_back("(no AWS::ApiGatewayV2::Stage: the API is served on stage \"dev\")");
      stage_json_.AddMember("name", "dev", a);
      return status::ok();
    }
    const std::string path = props_path(*stage);
    auto name = physical_name(stage->id, *stage->definition, path);
    if (!name) return name.status();
    stage_name_ = name->text;
    stage_json_.AddMember("name", json_string(stage_name_, a), a);
    auto variables = property(*stage, "StageVariables");
    if (!variables) return variables.status();
    if (*variables) {
      if (!(*variables)->is_mapping()) return error(**variables, path + ".StageVariables", "a map of NAME: value");
      rj::Value vars(rj::kObjectType);
      for (const auto& [name, value] : (*variables)->members) {
        if (!value.is_string()) return error(value, path + ".StageVariables." + name, "a stage variable is a string");
        vars.AddMember(json_string(name, a), json_string(value.text, a), a);
      }
      stage_json_.AddMember("variables", vars, a);
    }
    auto settings = property(*stage, "DefaultRouteSettings");
    if (!settings) return settings.status();
    if (*settings) {
      const node* rate = (*settings)->find("ThrottlingRateLimit");
      const node* burst = (*settings)->find("ThrottlingBurstLimit");
      if (rate != nullptr || burst != nullptr) {
        // AWS's account-level defaults stand in for the one not given: 10,000 per second, 5,000 burst.
        const auto number = [](const node* n, double fallback) {
          return n != nullptr && n->is_string() && looks_numeric(n->text) ? std::stod(n->text) : fallback;
        };
        rj::Value throttling(rj::kObjectType);
        throttling.AddMember("rateLimit", number(rate, 10000), a);
        throttling.AddMember("burstLimit", number(burst, 5000), a);
        stage_json_.AddMember("throttling", throttling, a);
      }
    }
    auto logs = property(*stage, "AccessLogSettings");
    if (!logs) return logs.status();
    if (*logs) {
      if (const node* format = (*logs)->find("Format"); format != nullptr && format->is_string()) {
        stage_json_.AddMember("accessLogFormat", json_string(format->text, a), a);
      }
    }
    return status::ok();
  }

  // ---- functions and their permissions -----------------------------------------------------

  // The integration a function becomes; made once, whoever uses it first.
  result<node> use_function(const resource& r) {
    auto name = physical_name(r.id, *r.definition, "Resources." + r.id);
    if (!name) return name;
    if (integrations_.contains(name->text) && !mocks_.contains(name->text)) return name;
    if (auto s = name_is_free(name->text, r); !s) return s;
    auto& a = config_.GetAllocator();
    const std::string path = props_path(r);
    const bool sam = r.type == kSamFunction;
    // SAM's Globals.Function: the function's own properties win; maps merge.
    node merged;
    merged.type = node::kind::mapping;
    if (r.properties != nullptr) merged = *r.properties;
    const node* globals = sam && root_.find("Globals") ? root_.find("Globals")->find("Function") : nullptr;
    if (globals != nullptr && globals->is_mapping()) {
      for (const auto& [key, value] : globals->members) {
        if (key == "Role" || key == "Policies" || key == "FunctionName" || key == "Events") {
          return error(value, "Globals.Function." + key,
                       "SAM does not take " + key + " in Globals: give it to each function");
        }
        node* own = merged.find(key);
        if (own == nullptr) {
          merged.members.emplace_back(key, value);
        } else if (is_intrinsic(*own) || is_intrinsic(value)) {
          continue;  // SAM merges written values; the function's own intrinsic wins whole
        } else if (own->is_mapping() && value.is_mapping()) {
          merge_maps(*own, value);
        } else if (own->is_sequence() && value.is_sequence()) {
          // SAM: lists add up, the global items first.
          own->items.insert(own->items.begin(), value.items.begin(), value.items.end());
        }
      }
    }
    const auto get = [&](std::string_view key) { return member(&merged, key, path); };
    const auto text = [&](std::string_view key) { return string_member(&merged, key, path); };

    rj::Value f(rj::kObjectType);
    f.AddMember("type", "lambda", a);
    for (const std::string_view refused : {"InlineCode", "ImageUri"}) {
      if (merged.find(refused) != nullptr) {
        return error(*merged.find(refused), path + "." + std::string(refused),
                     "the emulator runs a function's code from a local folder: give CodeUri (SAM) or Code (a path)");
      }
    }
    auto runtime = text("Runtime");
    if (!runtime) return runtime.status();
    if (!*runtime) return error(*r.definition, path, "a function needs a Runtime (nodejs20.x, python3.12, provided.al2023, ...)");
    f.AddMember("runtime", json_string((*runtime)->text, a), a);
    auto handler = text("Handler");
    if (!handler) return handler.status();
    if (*handler) f.AddMember("handler", json_string((*handler)->text, a), a);

    // The code: CDK's asset folder, SAM's CodeUri, or Lambda's Code as a local path.
    const std::string code_key = sam ? "CodeUri" : "Code";
    auto code_value = get(code_key);
    if (!code_value) return code_value.status();
    auto folder = local_folder(r, code_key, *code_value, merged.find(code_key), "the function's code");
    if (!folder) return folder.status();
    const std::string& folder_text = folder->text;
    f.AddMember("codeUri", json_string(folder_text, a), a);

    auto environment = get("Environment");
    if (!environment) return environment.status();
    if (*environment) {
      const node* variables = (*environment)->find("Variables");
      if (variables != nullptr) {
        if (!variables->is_mapping()) return error(*variables, path + ".Environment.Variables", "a map of NAME: value");
        rj::Value env(rj::kObjectType);
        for (const auto& [name, value] : variables->members) {
          if (!value.is_string()) {
            return error(value, path + ".Environment.Variables." + name, "a variable's value is a string");
          }
          env.AddMember(json_string(name, a), json_string(value.text, a), a);
        }
        f.AddMember("environment", env, a);
      }
    }
    const auto number = [&](std::string_view key, const char* json_key) -> status {
      auto value = text(key);
      if (!value) return value.status();
      if (!*value) return status::ok();
      auto number = json_number((*value)->text);
      if (!number) {
        return error(**value, path + "." + std::string(key), "must be a number, not \"" + (*value)->text + "\"");
      }
      f.AddMember(rj::StringRef(json_key), rj::Value(*number, a), a);
      return status::ok();
    };
    if (auto s = number("Timeout", "timeout"); !s) return s;
    if (auto s = number("MemorySize", "memorySize"); !s) return s;
    if (auto s = number("ReservedConcurrentExecutions", "reservedConcurrency"); !s) return s;
    auto layers = get("Layers");
    if (!layers) return layers.status();
    if (*layers) {
      if (!(*layers)->is_sequence()) return error(**layers, path + ".Layers", "a list of layer ARNs (!Ref MyLayer)");
      rj::Value folders(rj::kArrayType);
      for (const node& arn : (*layers)->items) {
        if (!arn.is_string()) return error(arn, path + ".Layers", "a layer's ARN is a string (!Ref MyLayer)");
        auto layer = layer_folder(arn.text, arn, path + ".Layers");
        if (!layer) return layer.status();
        if (*layer) {
          folders.PushBack(json_string(**layer, a), a);
        } else {
          not_emulated_.push_back(r.id + ".Layers: " + arn.text + " (not a layer of this template, so its content "
                                                                    "is not here)");
        }
      }
      if (!folders.Empty()) f.AddMember("layers", folders, a);
    }
    if (const node* events = merged.find("Events"); events != nullptr && events->is_mapping()) {
      for (const auto& [event, spec] : events->members) {
        const node* type = spec.find("Type");
        not_emulated_.push_back(r.id + ".Events." + event + " (" + (type && type->is_string() ? type->text : "?") +
                                ": nothing triggers it here)");
      }
    }

    auto policy = function_policy(r, merged, path);
    if (!policy) return policy.status();
    if (*policy) f.AddMember("policy", **policy, a);
    integrations_.emplace(name->text, std::move(f));
    return name;
  }

  // A resource's local folder, absolute: CDK's asset folder (Metadata aws:asset:path), else VALUE
  // (CodeUri, Code, ContentUri or Content, at WRITTEN in the template) relative to the template.
  result<node> local_folder(const resource& r, const std::string& key, const std::optional<node>& value,
                            const node* written, std::string_view what) {
    const std::string path = props_path(r) + "." + key;
    std::string given;
    const node* metadata = r.definition->find("Metadata");
    const node* asset = metadata ? metadata->find("aws:asset:path") : nullptr;
    if (asset != nullptr && asset->is_string()) {
      given = asset->text;
    } else if (!value) {
      return error(*r.definition, props_path(r), "needs " + key + ": the folder of " + std::string(what) +
                                                     ", relative to the template");
    } else if (!value->is_string()) {
      return error(*value, path,
                   "content in S3 (or inline) is not on this machine: give the folder of " + std::string(what) +
                       ", relative to the template, e.g. " + key + ": src/");
    } else {
      given = value->text;
    }
    std::filesystem::path folder(given);
    if (folder.is_relative()) folder = base_dir_ / folder;
    std::error_code ec;
    folder = std::filesystem::absolute(folder, ec).lexically_normal();
    std::string text = folder.string();
    while (text.size() > 1 && text.back() == '/') text.pop_back();
    if (!std::filesystem::is_directory(folder, ec)) {
      return error(written ? *written : *r.definition, path,
                   "\"" + given + "\": no such folder (" + text + "); " + std::string(what) +
                       " must be a folder beside the template");
    }
    return node::string(std::move(text));
  }

  // The folder of the template's layer whose ARN is ARN; nullopt for a layer from elsewhere.
  result<std::optional<std::string>> layer_folder(const std::string& arn, const node& at, const std::string& path) {
    for (const auto& [id, r] : resources_) {
      if (r.type != kSamLayer && r.type != kLambdaLayer) continue;
      auto name = physical_name(id, at, path);
      if (!name) return name.status();
      if (layer_arn(name->text) != arn) continue;
      const std::string key = r.type == kSamLayer ? "ContentUri" : "Content";
      auto content = property(r, key);
      if (!content) return content.status();
      auto folder = local_folder(r, key, *content, r.properties ? r.properties->find(key) : nullptr,
                                 "the layer's content");
      if (!folder) return folder.status();
      return std::optional<std::string>(folder->text);
    }
    return std::optional<std::string>();
  }

  // In the configuration, functions are integrations named by the function's name and MOCK
  // integrations by their logical id: the two must not meet.
  status name_is_free(const std::string& name, const resource& r) const {
    if (!integrations_.contains(name)) return status::ok();
    return error(*r.definition, "Resources." + r.id,
                 "the integration name " + name + " is both a function's name and a MOCK integration's logical id; "
                 "rename one");
  }

  static void merge_maps(node& own, const node& global) {
    for (const auto& [key, value] : global.members) {
      node* mine = own.find(key);
      if (mine == nullptr) {
        own.members.emplace_back(key, value);
      } else if (mine->is_mapping() && value.is_mapping() && !is_intrinsic(*mine) && !is_intrinsic(value)) {
        merge_maps(*mine, value);
      }
    }
  }

  // The function's IAM policy: SAM's Policies (with AWSLambdaBasicExecutionRole, which SAM always
  // adds), or the statements of the AWS::IAM::Role its Role names. nullopt: a role from outside
  // the template, which cannot be known (the function may then do everything).
  result<std::optional<rj::Value>> function_policy(const resource& r, const node& merged, const std::string& path) {
    auto& a = config_.GetAllocator();
    rj::Value statements(rj::kArrayType);
    auto resolved_role = member(&merged, "Role", path);
    if (!resolved_role) return resolved_role.status();
    const std::optional<node>& role_value = *resolved_role;
    if (!role_value) {
      if (r.type == kLambdaFunction) {
        return error(*r.definition, path, "an AWS::Lambda::Function needs a Role (!GetAtt MyRole.Arn)");
      }
      add_managed(managed_policies()[0], statements);
      if (const node* policies = merged.find("Policies")) {
        auto resolved = eval_->resolve(*policies, path + ".Policies");
        if (!resolved) return resolved.status();
        std::vector<const node*> entries;
        if (resolved->is_sequence()) {
          for (const node& n : resolved->items) entries.push_back(&n);
        } else if (!is_no_value(*resolved)) {
          entries.push_back(&*resolved);
        }
        // Each entry resolved (a policy template's parameters too); an index counts the entries left.
        for (std::size_t i = 0; i < entries.size(); ++i) {
          const std::string entry_path = path + ".Policies" + (resolved->is_sequence() ? "[" + std::to_string(i) + "]" : "");
          if (auto s = add_policy_entry(*entries[i], entry_path, statements); !s) return s;
        }
      }
    } else {
      if (!role_value->is_string()) return error(*role_value, path + ".Role", "Role is a role's ARN (!GetAtt MyRole.Arn)");
      const resource* found = nullptr;
      for (const auto& [id, candidate] : resources_) {
        if (candidate.type != kRole) continue;
        auto arn = get_att(id, "Arn", *role_value, path + ".Role");
        if (!arn) return arn.status();
        if (arn->text == role_value->text || names_.at(id) == role_value->text) found = &candidate;
      }
      if (found == nullptr) {
        not_emulated_.push_back(r.id + ".Role (" + role_value->text +
                                " is not a role of this template: its permissions are unknown, so the function may do "
                                "everything)");
        return std::optional<rj::Value>();
      }
      if (auto s = add_role_statements(*found, statements); !s) return s;
    }
    rj::Value policy(rj::kObjectType);
    policy.AddMember("Version", "2012-10-17", a);
    policy.AddMember("Statement", statements, a);
    return std::optional<rj::Value>(std::move(policy));
  }

  void add_managed(const managed_policy& m, rj::Value& statements) {
    auto& a = config_.GetAllocator();
    rj::Value statement(rj::kObjectType);
    statement.AddMember("Sid", json_string(m.name, a), a);
    statement.AddMember("Effect", "Allow", a);
    rj::Value actions(rj::kArrayType);
    for (const auto action : m.actions) actions.PushBack(json_string(action, a), a);
    statement.AddMember("Action", actions, a);
    statement.AddMember("Resource", json_string(m.resource, a), a);
    statements.PushBack(statement, a);
  }

  status add_managed_by_name(const node& n, const std::string& path, rj::Value& statements) {
    for (const managed_policy& m : managed_policies()) {
      if (n.text == m.name || n.text == m.arn) {
        add_managed(m, statements);
        return status::ok();
      }
    }
    return error(n, path,
                 "the managed policy " + n.text + " is not known to the emulator (it knows " +
                     names_of(managed_policies(), [](const managed_policy& m) { return std::string(m.name); }) +
                     "; the policy templates " +
                     names_of(policy_templates(), [](const policy_template& t) { return std::string(t.name); }) +
                     "; and inline {Statement: [...]} documents)");
  }

  status add_document(const node& document, const std::string& path, rj::Value& statements) {
    const node* list = document.find("Statement");
    if (list == nullptr) return error(document, path, "a policy document has a Statement");
    auto& a = config_.GetAllocator();
    if (list->is_mapping()) {
      statements.PushBack(to_json(*list, a), a);
      return status::ok();
    }
    if (!list->is_sequence()) return error(*list, path + ".Statement", "a list of statements");
    for (const node& statement : list->items) statements.PushBack(to_json(statement, a), a);
    return status::ok();
  }

  status add_policy_entry(const node& entry, const std::string& path, rj::Value& statements) {
    if (entry.is_string()) return add_managed_by_name(entry, path, statements);
    if (!entry.is_mapping()) {
      return error(entry, path, "Policy at index of the 'Policies' property is not valid: give a policy template, a "
                                "managed policy's name or an inline {Statement: [...]}");
    }
    if (entry.find("Statement") != nullptr) return add_document(entry, path, statements);
    if (entry.members.size() == 1) {
      const auto& [name, parameters] = entry.members[0];
      for (const policy_template& t : policy_templates()) {
        if (name != t.name) continue;
        const node* value = parameters.is_mapping() ? parameters.find(t.parameter) : nullptr;
        if (value == nullptr || !value->is_string()) {
          return error(entry, path + "." + name,
                       "Must specify valid parameter values for policy template '" + name + "': {" +
                           std::string(t.parameter) + ": NAME}");
        }
        auto& a = config_.GetAllocator();
        const std::string prefix = "arn:aws:" + std::string(t.parameter == "TableName" ? "dynamodb" : "lambda") +
                                   ":" + options_.region + ":" + std::string(kAccount) + ":";
        rj::Value statement(rj::kObjectType);
        statement.AddMember("Sid", json_string(name, a), a);
        statement.AddMember("Effect", "Allow", a);
        rj::Value actions(rj::kArrayType);
        for (const auto action : t.actions) actions.PushBack(json_string(action, a), a);
        statement.AddMember("Action", actions, a);
        rj::Value resources(rj::kArrayType);
        if (t.parameter == "TableName") {
          resources.PushBack(json_string(prefix + "table/" + value->text, a), a);
          resources.PushBack(json_string(prefix + "table/" + value->text + "/index/*", a), a);
        } else {
          resources.PushBack(json_string(prefix + "function:" + value->text + "*", a), a);
        }
        statement.AddMember("Resource", resources, a);
        statements.PushBack(statement, a);
        return status::ok();
      }
    }
    return error(entry, path,
                 "\"" + (entry.members.empty() ? std::string() : entry.members[0].first) +
                     "\" is not a policy template the emulator knows (" +
                     names_of(policy_templates(), [](const policy_template& t) { return std::string(t.name); }) +
                     "); other permissions go in an inline {Statement: [...]}");
  }

  status add_role_statements(const resource& role, rj::Value& statements) {
    const std::string path = props_path(role);
    auto managed = property(role, "ManagedPolicyArns");
    if (!managed) return managed.status();
    if (*managed) {
      if (!(*managed)->is_sequence()) return error(**managed, path + ".ManagedPolicyArns", "a list of ARNs");
      for (const node& arn : (*managed)->items) {
        if (!arn.is_string()) return error(arn, path + ".ManagedPolicyArns", "an ARN is a string");
        if (auto s = add_managed_by_name(arn, path + ".ManagedPolicyArns", statements); !s) return s;
      }
    }
    auto policies = property(role, "Policies");
    if (!policies) return policies.status();
    if (*policies) {
      if (!(*policies)->is_sequence()) return error(**policies, path + ".Policies", "a list of {PolicyName, PolicyDocument}");
      for (std::size_t i = 0; i < (*policies)->items.size(); ++i) {
        const node& p = (*policies)->items[i];
        const std::string entry = path + ".Policies[" + std::to_string(i) + "]";
        const node* document = p.find("PolicyDocument");
        if (document == nullptr || !document->is_mapping()) return error(p, entry, "needs a PolicyDocument");
        if (auto s = add_document(*document, entry + ".PolicyDocument", statements); !s) return s;
      }
    }
    return status::ok();
  }

  // ---- tables ------------------------------------------------------------------------------

  status read_table(const resource& r) {
    auto& a = config_.GetAllocator();
    const std::string path = props_path(r);
    auto name = physical_name(r.id, *r.definition, path);
    if (!name) return name.status();
    rj::Value table(rj::kObjectType);
    table.AddMember("TableName", json_string(name->text, a), a);
    if (r.type == kSimpleTable) {
      std::string key = "id";
      std::string type = "S";
      auto primary = property(r, "PrimaryKey");
      if (!primary) return primary.status();
      if (*primary) {
        const node* key_name = (*primary)->find("Name");
        const node* key_type = (*primary)->find("Type");
        if (key_name == nullptr || !key_name->is_string() || key_type == nullptr || !key_type->is_string()) {
          return error(**primary, path + ".PrimaryKey", "PrimaryKey is {Name: NAME, Type: String|Number|Binary}");
        }
        key = key_name->text;
        const std::map<std::string, std::string, std::less<>> types = {{"String", "S"}, {"Number", "N"}, {"Binary", "B"}};
        const auto t = types.find(key_type->text);
        if (t == types.end()) return error(*key_type, path + ".PrimaryKey.Type", "Invalid 'Type' \"" + key_type->text + "\": String, Number or Binary");
        type = t->second;
      }
      rj::Value definitions(rj::kArrayType);
      rj::Value definition(rj::kObjectType);
      definition.AddMember("AttributeName", json_string(key, a), a);
      definition.AddMember("AttributeType", json_string(type, a), a);
      definitions.PushBack(definition, a);
      table.AddMember("AttributeDefinitions", definitions, a);
      rj::Value schema(rj::kArrayType);
      rj::Value hash(rj::kObjectType);
      hash.AddMember("AttributeName", json_string(key, a), a);
      hash.AddMember("KeyType", "HASH", a);
      schema.PushBack(hash, a);
      table.AddMember("KeySchema", schema, a);
      auto throughput = property(r, "ProvisionedThroughput");
      if (!throughput) return throughput.status();
      if (*throughput) {
        table.AddMember("ProvisionedThroughput", numeric_members(**throughput), a);
      } else {
        table.AddMember("BillingMode", "PAY_PER_REQUEST", a);
      }
      auto sse = property(r, "SSESpecification");
      if (!sse) return sse.status();
      if (*sse) table.AddMember("SSESpecification", to_json(**sse, a), a);
      tables_.PushBack(table, a);
      return status::ok();
    }
    if (r.properties != nullptr) {
      auto resolved = eval_->resolve(*r.properties, path);
      if (!resolved) return resolved.status();
      for (const auto& [key, value] : resolved->members) {
        // Settings with no local meaning, which CreateTable does not take.
        if (key == "TableName" || key == "PointInTimeRecoverySpecification" ||
            key == "ContributorInsightsSpecification" || key == "KinesisStreamSpecification" ||
            key == "ImportSourceSpecification" || key == "ResourcePolicy") {
          continue;
        }
        if (key == "ProvisionedThroughput") {
          table.AddMember("ProvisionedThroughput", numeric_members(value), a);
        } else {
          table.AddMember(json_string(key, a), to_json(value, a), a);
        }
      }
    }
    tables_.PushBack(table, a);
    return status::ok();
  }

  // CloudFormation takes "5" for 5 in ProvisionedThroughput.
  rj::Value numeric_members(const node& n) {
    auto& a = config_.GetAllocator();
    rj::Value out = to_json(n, a);
    if (!out.IsObject()) return out;
    for (auto& member : out.GetObject()) {
      if (!member.value.IsString()) continue;
      if (auto number = json_number(member.value.GetString())) member.value.CopyFrom(*number, a);
    }
    return out;
  }

  // ---- outputs and the result ------------------------------------------------------------

  status read_outputs() {
    const node* outputs = root_.find("Outputs");
    if (outputs == nullptr) return status::ok();
    if (!outputs->is_mapping()) return error(*outputs, "Outputs", "Outputs is a map of NAME: {Value, Description}");
    for (const auto& [name, spec] : outputs->members) {
      const std::string path = "Outputs." + name;
      if (!spec.is_mapping() || spec.find("Value") == nullptr) return error(spec, path, "an output needs a Value");
      if (const node* when = spec.find("Condition")) {
        if (!when->is_string()) return error(*when, path + ".Condition", "Condition names a condition");
        auto holds = condition(when->text, *when, path + ".Condition");
        if (!holds) return holds.status();
        if (!*holds) continue;
      }
      auto value = eval_->resolve(*spec.find("Value"), path + ".Value");
      if (!value) return value.status();
      std::string text;
      if (value->is_string()) {
        text = value->text;
      } else if (value->is_sequence()) {
        for (const node& item : value->items) text += (text.empty() ? "" : ",") + (item.is_string() ? item.text : "");
      } else {
        return error(*value, path + ".Value", "an output's value is a string or a list");
      }
      std::string description;
      if (const node* d = spec.find("Description"); d != nullptr && d->is_string()) description = d->text;
      outputs_.push_back(template_output{name, std::move(text), std::move(description)});
    }
    return status::ok();
  }

  result<translated_template> finish() {
    auto& a = config_.GetAllocator();
    config_.SetObject();
    config_.AddMember("name", json_string(api_name_, a), a);
    config_.AddMember("apiId", json_string(api_id_, a), a);
    config_.AddMember("region", json_string(options_.region, a), a);
    config_.AddMember("routeSelectionExpression", json_string(route_selection_, a), a);
    config_.AddMember("stage", stage_json_, a);
    if (!tables_.Empty()) config_.AddMember("tables", tables_, a);
    if (!authorizers_.empty()) {
      rj::Value authorizers(rj::kObjectType);
      for (auto& [id, value] : authorizers_) authorizers.AddMember(json_string(id, a), value, a);
      config_.AddMember("authorizers", authorizers, a);
    }
    rj::Value routes(rj::kArrayType);
    for (auto& [id, value] : routes_) routes.PushBack(value, a);
    config_.AddMember("routes", routes, a);
    rj::Value integrations(rj::kObjectType);
    for (auto& [name, value] : integrations_) integrations.AddMember(json_string(name, a), value, a);
    config_.AddMember("integrations", integrations, a);

    rj::StringBuffer buffer;
    rj::PrettyWriter<rj::StringBuffer> writer(buffer);
    writer.SetIndent(' ', 2);
    config_.Accept(writer);
    translated_template out;
    out.config_json = std::string(buffer.GetString(), buffer.GetSize()) + "\n";
    out.not_emulated = std::move(not_emulated_);
    out.outputs = std::move(outputs_);
    out.api_endpoint = "wss://" + api_id_ + ".execute-api." + options_.region + ".amazonaws.com";
    if (const node* declared = root_.find("Parameters"); declared != nullptr && declared->is_mapping()) {
      for (const auto& [name, spec] : declared->members) out.parameters.push_back(name);
    }
    out.stage_name = stage_name_;
    return out;
  }

  std::string source_;
  std::filesystem::path base_dir_;
  const node& root_;
  const template_options& options_;
  bool sam_ = false;

  std::map<std::string, node, std::less<>> parameters_;
  std::optional<evaluator> eval_;
  std::map<std::string, bool> conditions_;
  std::set<std::string> evaluating_conditions_;
  std::map<std::string, resource> resources_;
  std::vector<std::string> order_;  // the resources' logical ids in the file's order
  std::set<std::string> skipped_;  // resources whose Condition is false
  std::map<std::string, std::string> names_;
  std::vector<std::string> naming_order_;  // the resources being named, to see a cycle
  std::vector<std::pair<std::string, std::string>> api_ids_given_;  // API logical id, its id

  rj::Document config_;
  std::string api_id_;
  std::string api_name_;
  std::string route_selection_;
  std::string stage_name_;
  std::vector<const resource*> stages_;
  rj::Value stage_json_;
  rj::Value tables_{rj::kArrayType};
  std::map<std::string, rj::Value> authorizers_;          // by logical id
  std::map<std::string, std::string> integration_names_;  // integration logical id → integration name
  std::map<std::string, rj::Value> integrations_;         // by integration name
  std::set<std::string> mocks_;                           // the MOCK integrations among them
  std::vector<std::pair<std::string, rj::Value>> routes_;
  std::vector<std::string> not_emulated_;
  std::vector<template_output> outputs_;
};

// The folder relative paths in FILE are relative to.
std::filesystem::path folder_of(const std::filesystem::path& file) {
  return file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
}

}  // namespace

result<translated_template> translate_template_text(std::string_view text, std::string_view source_name,
                                                    const std::filesystem::path& base_dir,
                                                    const template_options& options) {
  auto root = load_template_text(text, source_name);
  if (!root) return root.status();
  return translator(std::string(source_name), base_dir, *root, options).run();
}

result<translated_template> translate_template_file(const std::filesystem::path& file,
                                                    const template_options& options) {
  auto root = load_template_file(file);
  if (!root) return root.status();
  return translator(file.string(), folder_of(file), *root, options).run();
}

result<std::vector<translated_template>> translate_every_api(const std::filesystem::path& file,
                                                             const template_options& options) {
  auto root = load_template_file(file);
  if (!root) return root.status();
  const std::filesystem::path base = folder_of(file);
  std::vector<std::string> ids;
  if (!options.api.empty()) {
    ids.push_back(options.api);
  } else {
    auto found = translator(file.string(), base, *root, options).api_ids();
    if (!found) return found.status();
    ids = *std::move(found);
  }
  std::vector<translated_template> out;
  for (const std::string& id : ids) {
    template_options one = options;
    one.api = id;
    one.serve_every_api = ids.size() > 1;
    auto translated = translator(file.string(), base, *root, one).run();
    if (!translated) return translated.status();
    translated->api_logical_id = id;
    out.push_back(*std::move(translated));
  }
  return out;
}

status add_parameter_override(std::string_view text, template_options& options) {
  // "ParameterKey=K,ParameterValue=V" (the AWS CLI's form) or "K=V" (SAM's).
  constexpr std::string_view key_prefix = "ParameterKey=";
  constexpr std::string_view value_prefix = ",ParameterValue=";
  if (text.starts_with(key_prefix)) {
    const std::size_t value_at = text.find(value_prefix);
    if (value_at == std::string_view::npos) {
      return fail("--parameter-overrides " + std::string(text) + ": write ParameterKey=NAME,ParameterValue=VALUE");
    }
    options.parameter_overrides.emplace_back(std::string(text.substr(key_prefix.size(), value_at - key_prefix.size())),
                                             std::string(text.substr(value_at + value_prefix.size())));
    return status::ok();
  }
  const std::size_t equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    return fail("--parameter-overrides " + std::string(text) + ": write NAME=VALUE (e.g. TableName=chat)");
  }
  options.parameter_overrides.emplace_back(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  return status::ok();
}

}  // namespace apigw::templates
