// Loads and validates an API configuration (JSON) into config::api_spec. An error is a message a
// user can act on: where (file, line:column or JSON path), what was wrong, what is allowed.
// Thread-safety: free functions without shared state; safe from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "config/api_config.hpp"

namespace apigw::config {

// Reads FILE and validates it. The error names FILE.
result<api_spec> load_file(const std::filesystem::path& file);

// Validates JSON text; source_name stands for the file in messages and in api_spec::source.
result<api_spec> load_text(std::string_view json, std::string_view source_name);

// The API served when no --config is given: config/websocket-lab.json (the Websocket-Lab chat
// API), embedded at build time.
std::string_view default_api_json();

// What api_spec::source (and every error message) says for the embedded default API.
inline constexpr std::string_view built_in_source = "<built-in>";

// load_text(default_api_json(), built_in_source).
result<api_spec> load_default();

// The apiId used when the file gives none: 10 lowercase letters and digits, like AWS's ids
// ("z7aqfmpd0c"), the same for the same name on every run and machine (clients may log it).
std::string derive_api_id(std::string_view name);

}  // namespace apigw::config
