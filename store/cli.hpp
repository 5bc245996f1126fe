// The `store` subcommand of the emulator, for debugging a lab: prints a table's items, one item,
// the tables or the connection records of an open store, as DynamoDB JSON.
// Thread-safety: as session_store's (safe from any thread); writes only to the given streams.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/session_store.hpp"

namespace apigw::store {

// ARGS are the words after "store":
//   scan TABLE          every item of TABLE, one compact JSON object per line, in key order
//   get TABLE KEYJSON   the item with key KEYJSON ({"connectionId": {"S": "..."}}), or exit 1
//   tables              each table's CreateTable JSON (TableName, KeySchema, AttributeDefinitions)
//   connections         the connection records of the running emulator, one JSON object per line
// Returns the exit status: 0 done, 1 an error or no such item (message on ERR), 2 bad usage.
// A TABLE the store does not hold is an error naming it and the tables there are.
int run_store_command(const std::vector<std::string>& args, session_store& store, std::ostream& out,
                      std::ostream& err);

// Opens PATH, the store file of an emulator started with --store PATH (running or not), for the
// commands above; its connection records are kept. The error says what is wrong with PATH and,
// when there is no such file, how one is made.
result<std::unique_ptr<session_store>> open_store_file(const std::string& path);

// What `store` prints for bad usage.
std::string_view store_command_usage();

}  // namespace apigw::store
