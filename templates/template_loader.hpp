// Serves a SAM or CloudFormation template: reads the template (YAML or JSON), evaluates its
// parameters, conditions, mappings and intrinsic functions as CloudFormation does, and
// translates the WebSocket API it describes, with its routes, integrations, authorizers, stage,
// Lambda functions, IAM policies and DynamoDB tables, into the emulator's JSON configuration.
// Everything downstream (the config loader, explain, the trace, the dashboard) then works on that
// configuration as on a file written by hand; `apigw-ws-emulator template show` prints it.
// Thread-safety: free functions without shared state.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace apigw::templates {

struct template_options {
  // --parameter-overrides KEY=VALUE ...: each must name a parameter of the template.
  std::vector<std::pair<std::string, std::string>> parameter_overrides;
  std::string api;         // --api LOGICAL_ID: the WebSocket API to serve when there are several
  std::string stage;       // --stage NAME: the API's stage to serve when it has several
  std::string stack_name;  // AWS::StackName; empty: the name of the template's folder
  std::string region = "us-east-1";
  // The caller serves the template's other WebSocket APIs too: they are not "not emulated".
  bool serve_every_api = false;
  // Several templates share the overrides: one for a parameter this template lacks is another's
  // (the caller checks that some template declares it, with translated_template::parameters).
  bool overrides_for_several_templates = false;
};

struct template_output {
  std::string name;
  std::string value;
  std::string description;
};

struct translated_template {
  std::string config_json;                // the emulator's configuration (docs/configuration.md)
  std::vector<std::string> not_emulated;  // "OnConnectPermission (AWS::Lambda::Permission)", ...
  std::vector<template_output> outputs;   // the template's Outputs, evaluated
  std::string api_endpoint;               // what AWS gives: wss://ID.execute-api.REGION.amazonaws.com
  std::string stage_name;
  std::string api_logical_id;             // set by translate_every_api
  std::vector<std::string> parameters;    // the template's Parameters, by name
};

// Reads FILE; relative paths in it (CodeUri, Code) are resolved against its folder. Errors name
// the file, line and column, the logical id and property path, and what is allowed.
result<translated_template> translate_template_file(const std::filesystem::path& file,
                                                    const template_options& options);

// The same for text; source_name stands for the file in messages, base_dir for its folder.
result<translated_template> translate_template_text(std::string_view text, std::string_view source_name,
                                                    const std::filesystem::path& base_dir,
                                                    const template_options& options);

// Every WebSocket API of FILE (or the one options.api names), each translated as
// translate_template_file does, in the file's order: what an emulator serving them all (one port
// each, one store) loads.
result<std::vector<translated_template>> translate_every_api(const std::filesystem::path& file,
                                                             const template_options& options);

// "KEY=VALUE" (as `sam deploy --parameter-overrides` takes them; "ParameterKey=K,ParameterValue=V"
// too) into options.parameter_overrides.
status add_parameter_override(std::string_view text, template_options& options);

}  // namespace apigw::templates
