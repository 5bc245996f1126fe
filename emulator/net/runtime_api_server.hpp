// The Lambda Runtime API over HTTP: one small server per function process, on 127.0.0.1 and a
// free port, serving /2018-06-01/runtime/... for that process's backend
// (emulator/functions/runtime_api.hpp). Runs on the emulator's I/O threads.
// Thread-safety: the opener may be called from any thread.
#pragma once

#include "emulator/functions/runtime_api.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace apigw::emulator {

// Opens Runtime API endpoints whose connections run on IOC.
functions::runtime_api_opener runtime_api_opener(boost::asio::io_context& ioc);

}  // namespace apigw::emulator
