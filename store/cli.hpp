// The `store` subcommand of the emulator, for debugging a lab: prints a table's items, one item,
// the tables or the connection records of an open store, as DynamoDB JSON.
// Thread-safety: as session_store's (safe from any thread); writes only to the given streams.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "store/session_store.hpp"

namespace apigw::store {

// ARGS are the words after "store":
//   scan TABLE          every item of TABLE, one compact JSON object per line, in key order
//   get TABLE KEYJSON   the item with key KEYJSON ({"connectionId": {"S": "..."}}), or exit 1
//   tables              each table's CreateTable JSON (TableName, KeySchema, AttributeDefinitions)
//   connections         the connection records of the running emulator, one JSON object per line
// Returns the exit status: 0 done, 1 an error or no such item (message on ERR), 2 bad usage.
int run_store_command(const std::vector<std::string>& args, session_store& store, std::ostream& out,
                      std::ostream& err);

// What `store` prints for bad usage.
std::string_view store_command_usage();

}  // namespace apigw::store
