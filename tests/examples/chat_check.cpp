// apigw_chat_check URL: two clients join the chat served at URL and one of them says "hello";
// exit 0 when both receive it, else 1 with what happened. Written against the public client
// (apigw/client.hpp), as a user's smoke test would be.
#include <iostream>
#include <string>

#include <apigw/client.hpp>

namespace {

bool joined(apigw::client& c, const std::string& url, const char* who) {
  if (auto error = c.connect(url); !error.empty()) {
    std::cerr << "chat_check: " << who << " cannot connect to " << url << ": " << error << "\n";
    return false;
  }
  return true;
}

bool received(apigw::client& c, const char* who, const std::string& expected) {
  const apigw::frame f = c.receive();
  if (f.is_text(expected)) return true;
  std::cerr << "chat_check: " << who << " expected \"" << expected << "\", got " << f << "\n";
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: apigw_chat_check ws://HOST:PORT/STAGE\n";
    return 2;
  }
  const std::string url = argv[1];
  apigw::client alice;
  apigw::client bob;
  if (!joined(alice, url, "alice") || !joined(bob, url, "bob")) return 1;
  if (!alice.send(R"({"action": "sendmessage", "data": "hello"})")) {
    std::cerr << "chat_check: alice cannot send\n";
    return 1;
  }
  const bool ok = received(alice, "alice", "hello") & received(bob, "bob", "hello");
  alice.close();
  bob.close();
  if (ok) std::cout << "chat_check: both clients received the message\n";
  return ok ? 0 : 1;
}
