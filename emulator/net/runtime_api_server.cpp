#include "emulator/net/runtime_api_server.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <rapidjson/stringbuffer.h>

#include "emulator/auth/percent_decoding.hpp"
#include <rapidjson/writer.h>

namespace apigw::emulator {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using functions::runtime_answer;
using functions::runtime_api_backend;
using functions::runtime_invocation;

constexpr std::string_view kPrefix = "/2018-06-01/runtime/";

std::string error_json(std::string_view type, std::string_view message) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  w.Key("errorMessage");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.Key("errorType");
  w.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}

class endpoint_state;

// One connection from the runtime: requests in order, a /next answered when the backend delivers.
class runtime_session : public std::enable_shared_from_this<runtime_session> {
 public:
  runtime_session(tcp::socket socket, std::shared_ptr<runtime_api_backend> backend)
      : stream_(std::move(socket)), backend_(std::move(backend)) {}

  void start() { read(); }

  void close() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.socket().close(ec);
    });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(functions::max_response_bytes);
    parser_->header_limit(64 * 1024);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      // A response above Lambda's limit fails the invocation, as Lambda fails it.
      const std::string target(parser_->get().target());
      const std::string id = request_id_of(target, "/response");
      const std::string message = "Response payload size exceeded maximum allowed payload size (" +
                                  std::to_string(functions::max_response_bytes) + " bytes).";
      backend_->error(id, "Function.ResponseSizeTooLarge", error_json("Function.ResponseSizeTooLarge", message));
      send(http::status::payload_too_large, error_json("RequestEntityTooLarge", message), false);
      return;
    }
    if (ec) return;
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    const std::string target(req.target());
    if (req.method() == http::verb::get && target == std::string(kPrefix) + "invocation/next") {
      // The backend keeps the session while the long poll waits (and drops it when the
      // process is stopped, which also closes the connection).
      backend_->next([self = shared_from_this()](runtime_invocation inv) {
        auto executor = self->stream_.get_executor();
        net::post(executor, [self = std::move(self), inv = std::move(inv)]() mutable {
          self->send_invocation(std::move(inv));
        });
      });
      return;
    }
    if (req.method() == http::verb::post) {
      if (target == std::string(kPrefix) + "init/error") {
        answer(backend_->init_error(error_type(req), std::move(req.body())));
        return;
      }
      if (std::string id = request_id_of(target, "/response"); !id.empty()) {
        answer(backend_->response(id, std::move(req.body())));
        return;
      }
      if (std::string id = request_id_of(target, "/error"); !id.empty()) {
        answer(backend_->error(id, error_type(req), std::move(req.body())));
        return;
      }
    }
    send(http::status::not_found,
         error_json("InvalidRequest", "no such Runtime API call: " + std::string(req.method_string()) + " " + target),
         req.keep_alive());
  }

  static std::string error_type(const http::request<http::string_body>& req) {
    auto it = req.find("Lambda-Runtime-Function-Error-Type");
    return it == req.end() ? std::string() : std::string(it->value());
  }

  // "/2018-06-01/runtime/invocation/ID/response" with SUFFIX "/response" gives ID; else "".
  static std::string request_id_of(const std::string& target, std::string_view suffix) {
    const std::string head = std::string(kPrefix) + "invocation/";
    if (target.size() <= head.size() + suffix.size() || target.compare(0, head.size(), head) != 0 ||
        target.compare(target.size() - suffix.size(), suffix.size(), suffix) != 0) {
      return {};
    }
    const std::string id = target.substr(head.size(), target.size() - head.size() - suffix.size());
    if (id.find('/') != std::string::npos) return {};
    // Runtime clients percent-encode the id in the path (API Gateway's ids end with "=").
    return percent_decode(id).value_or(std::string());
  }

  void answer(const runtime_answer& a) {
    if (a.status == 202) {
      send(http::status::accepted, "{\"status\":\"OK\"}", keep_alive_);
    } else {
      send(static_cast<http::status>(a.status), error_json(a.error_type, a.message), keep_alive_);
    }
  }

  void send_invocation(runtime_invocation inv) {
    auto res = std::make_shared<http::response<http::string_body>>(http::status::ok, 11);
    res->set(http::field::content_type, "application/json");
    res->set("Lambda-Runtime-Aws-Request-Id", inv.request_id);
    res->set("Lambda-Runtime-Deadline-Ms", std::to_string(inv.deadline_ms));
    res->set("Lambda-Runtime-Invoked-Function-Arn", inv.function_arn);
    res->set("Lambda-Runtime-Trace-Id", inv.trace_id);
    res->body() = std::move(inv.event);
    res->keep_alive(keep_alive_);
    write(std::move(res));
  }

  void send(http::status status, std::string body, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::content_type, "application/json");
    res->body() = std::move(body);
    res->keep_alive(keep_alive);
    write(std::move(res));
  }

  void write(std::shared_ptr<http::response<http::string_body>> res) {
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec || !res->keep_alive()) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      self->read();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<runtime_api_backend> backend_;
  bool keep_alive_ = true;  // the current request's
};

// The acceptor and the sessions of one endpoint, shared with the handlers still in flight.
class endpoint_state : public std::enable_shared_from_this<endpoint_state> {
 public:
  endpoint_state(net::io_context& ioc, std::shared_ptr<runtime_api_backend> backend)
      : ioc_(ioc), acceptor_(net::make_strand(ioc)), backend_(std::move(backend)) {}

  status listen() {
    beast::error_code ec;
    const tcp::endpoint where(net::ip::make_address_v4("127.0.0.1"), 0);
    acceptor_.open(where.protocol(), ec);
    if (!ec) acceptor_.bind(where, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return fail("cannot listen on 127.0.0.1: " + ec.message());
    port_ = acceptor_.local_endpoint(ec).port();
    return {};
  }

  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
      if (ec) return;  // closed
      // Answers go out as soon as they are written: the runtime sends an invocation's answer and
      // its next GET together, so Nagle's algorithm would hold the next event until the
      // runtime's delayed ACK.
      beast::error_code ignored;
      s.set_option(tcp::no_delay(true), ignored);
      auto session = std::make_shared<runtime_session>(std::move(s), self->backend_);
      {
        std::lock_guard lock(self->m_);
        if (self->closed_) return;
        self->sessions_.push_back(session);
      }
      session->start();
      self->accept();
    });
  }

  void close() {
    std::vector<std::weak_ptr<runtime_session>> sessions;
    {
      std::lock_guard lock(m_);
      closed_ = true;
      sessions.swap(sessions_);
    }
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
    for (auto& weak : sessions) {
      if (auto s = weak.lock()) s->close();
    }
  }

  std::uint16_t port() const { return port_; }

 private:
  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  std::shared_ptr<runtime_api_backend> backend_;
  std::uint16_t port_ = 0;
  std::mutex m_;
  bool closed_ = false;
  std::vector<std::weak_ptr<runtime_session>> sessions_;
};

class endpoint final : public functions::runtime_api_server {
 public:
  explicit endpoint(std::shared_ptr<endpoint_state> state) : state_(std::move(state)) {}
  ~endpoint() override { state_->close(); }
  std::uint16_t port() const override { return state_->port(); }

 private:
  std::shared_ptr<endpoint_state> state_;
};

}  // namespace

functions::runtime_api_opener runtime_api_opener(net::io_context& ioc) {
  return [&ioc](std::shared_ptr<runtime_api_backend> backend)
             -> result<std::unique_ptr<functions::runtime_api_server>> {
    auto state = std::make_shared<endpoint_state>(ioc, std::move(backend));
    if (auto listening = state->listen(); !listening) return listening;
    state->accept();
    return std::unique_ptr<functions::runtime_api_server>(new endpoint(std::move(state)));
  };
}

}  // namespace apigw::emulator
