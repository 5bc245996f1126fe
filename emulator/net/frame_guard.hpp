// A stream layer under the WebSocket stream that watches the bytes a client sends and notes when
// a frame's payload is longer than the frame limit (AWS closes such connections with 1009,
// although the message as a whole may be within its own limit). Beast exposes message sizes but
// not frame sizes, so the frame headers are read here as they pass by.
// Thread-safety: like the stream it wraps (one read and one write at a time, on one thread).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/handler_continuation_hook.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace apigw::emulator {

// The completion of a frame_guard's read: what the layer below read passes by the guard's watch,
// then goes to the caller's handler, whose executor, allocator and cancellation slot are its own
// (the associator below) and which is a continuation when the caller's handler is one.
template <class Guard, class Buffers, class Handler>
struct frame_guard_read {
  Guard* guard;
  Buffers buffers;
  Handler handler;

  void operator()(boost::beast::error_code ec, std::size_t n) {
    if (!ec) guard->watch(buffers, n);
    std::move(handler)(ec, n);
  }

  friend bool asio_handler_is_continuation(frame_guard_read* self) {
    using boost::asio::asio_handler_is_continuation;
    return asio_handler_is_continuation(std::addressof(self->handler));
  }
};

// The completion of the 101 that a frame_guard rewrote: it holds the rewritten text while the
// layer below writes it, and reports to the caller's handler the bytes the caller gave (the
// associator below, as for a read).
template <class Handler>
struct frame_guard_rewritten_write {
  std::string text;    // on the heap: its characters stay where the write's buffer points
  std::size_t given;   // the bytes of the caller's buffers
  Handler handler;

  void operator()(boost::beast::error_code ec, std::size_t n) {
    std::move(handler)(ec, ec ? std::min(n, given) : given);
  }

  friend bool asio_handler_is_continuation(frame_guard_rewritten_write* self) {
    using boost::asio::asio_handler_is_continuation;
    return asio_handler_is_continuation(std::addressof(self->handler));
  }
};

template <class NextLayer>
class frame_guard {
 public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;

  template <class... Args>
  explicit frame_guard(Args&&... args) : next_(std::forward<Args>(args)...) {}

  void set_max_frame_bytes(std::uint64_t n) { max_frame_ = n; }

  // The reader took a whole message of N payload bytes, the next after those it took before:
  // true when one of its frames was longer than the limit. The frames are counted as their
  // headers pass by, which can be ahead of the messages (Beast may read ahead into the next
  // one): a message that ends beyond where the first oversized frame starts contains it.
  bool took_oversized_message(std::uint64_t n) {
    taken_ += n;
    return oversized_at_ < taken_;
  }

  next_layer_type& next_layer() { return next_; }
  const next_layer_type& next_layer() const { return next_; }
  executor_type get_executor() noexcept { return next_.get_executor(); }

  // The read goes straight to the layer below; its completion notes the frame headers that
  // passed, then completes HANDLER (frame_guard_read: no composed operation of its own).
  template <class MutableBufferSequence, class ReadHandler>
  void async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    next_.async_read_some(buffers, frame_guard_read<frame_guard, MutableBufferSequence, std::decay_t<ReadHandler>>{
                                       this, buffers, std::forward<ReadHandler>(handler)});
  }

  // The next write goes out without its "NAME: …" header line. For the handshake's 101: Beast
  // adds its own Server field after every decorator, and API Gateway's 101 has no server banner.
  // NAME is not copied: it must outlive that write (a string literal does).
  void drop_field_of_next_write(const char* name) { drop_field_ = name; }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    if (drop_field_ == nullptr) return next_.async_write_some(buffers, std::forward<WriteHandler>(handler));
    // The 101 is small and written whole: rewrite it, write all of it, and report the bytes the
    // caller gave as written. Beast's buffer sequences are costly to walk: one pass copies them.
    // The text is on the heap (reserved beyond the string's inline capacity), so moving it into
    // the completion keeps its characters where the write's buffer points.
    std::string text;
    text.reserve(512);
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
         ++it) {
      const boost::asio::const_buffer b = *it;
      text.append(static_cast<const char*>(b.data()), b.size());
    }
    const std::size_t given = text.size();
    const std::string_view name(drop_field_);
    for (std::size_t at = text.find("\r\n"); at != std::string::npos; at = text.find("\r\n", at + 2)) {
      const std::string_view rest = std::string_view(text).substr(at + 2);
      if (rest.size() > name.size() && rest[name.size()] == ':' && rest.starts_with(name)) {
        const auto end = text.find("\r\n", at + 2);
        if (end != std::string::npos) text.erase(at, end - at);
        break;
      }
    }
    drop_field_ = nullptr;
    frame_guard_rewritten_write<std::decay_t<WriteHandler>> completion{std::move(text), given,
                                                                       std::forward<WriteHandler>(handler)};
    const auto rewritten = boost::asio::buffer(completion.text);
    return boost::asio::async_write(next_, rewritten, std::move(completion));
  }

 private:
  template <class, class, class>
  friend struct frame_guard_read;

  template <class Buffers>
  void watch(const Buffers& buffers, std::size_t n) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         n > 0 && it != boost::asio::buffer_sequence_end(buffers); ++it) {
      const boost::asio::const_buffer b = *it;
      const std::size_t len = std::min(n, b.size());
      watch(static_cast<const unsigned char*>(b.data()), len);
      n -= len;
    }
  }

  // Frame headers (RFC 6455 5.2): 2 bytes, then 0, 2 or 8 bytes of extended length, then the
  // 4-byte mask when the MASK bit is set; then the payload, which is skipped. A header read whole
  // is noted where it is; one split between reads is gathered byte by byte.
  void watch(const unsigned char* p, std::size_t n) {
    while (n > 0) {
      if (payload_left_ > 0) {
        const std::size_t skip = payload_left_ < n ? static_cast<std::size_t>(payload_left_) : n;
        payload_left_ -= skip;
        p += skip;
        n -= skip;
        continue;
      }
      if (header_have_ == 0 && n >= 2) {
        const std::size_t size = header_size(p[1]);
        if (n >= size) {
          note_header(p);
          p += size;
          n -= size;
          continue;
        }
      }
      header_[header_have_++] = *p++;
      --n;
      if (header_have_ == 2) header_need_ = static_cast<std::uint8_t>(header_size(header_[1]));
      if (header_have_ >= 2 && header_have_ == header_need_) {
        note_header(header_);
        header_have_ = 0;
        header_need_ = 2;
      }
    }
  }

  // The size of a header whose second byte is B1.
  static std::size_t header_size(unsigned char b1) {
    const unsigned len7 = b1 & 0x7f;
    return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b1 & 0x80) ? 4 : 0);
  }

  // A frame's whole header H has passed: its payload is skipped, and counted when it is data.
  void note_header(const unsigned char* h) {
    const unsigned len7 = h[1] & 0x7f;
    std::uint64_t len = len7;
    if (len7 == 126) {
      len = (std::uint64_t{h[2]} << 8) | h[3];
    } else if (len7 == 127) {
      len = 0;
      for (int i = 2; i < 10; ++i) len = (len << 8) | h[i];
    }
    const unsigned opcode = h[0] & 0x0f;
    if (opcode <= 2) {  // continuation, text, binary: payload that makes up messages
      if (len > max_frame_ && oversized_at_ == kNone) oversized_at_ = data_payload_;
      data_payload_ += len;
    }
    payload_left_ = len;
  }

  NextLayer next_;
  std::uint64_t max_frame_ = UINT64_MAX;
  std::uint64_t payload_left_ = 0;
  unsigned char header_[14] = {};
  std::uint8_t header_have_ = 0;
  std::uint8_t header_need_ = 2;
  std::uint64_t data_payload_ = 0;  // data-frame payload bytes whose headers have passed
  std::uint64_t taken_ = 0;         // payload bytes of the messages taken so far
  static constexpr std::uint64_t kNone = UINT64_MAX;
  std::uint64_t oversized_at_ = kNone;  // where the first oversized frame's payload starts
  const char* drop_field_ = nullptr;
};

// Beast closes a WebSocket's transport through these. As a server, the emulator closes the TCP
// connection as soon as the close handshake is done (RFC 6455 7.1.1: the server closes first),
// instead of Beast's default of waiting for the client's FIN, which a lax client may never send.
template <class NextLayer>
void teardown(boost::beast::role_type role, frame_guard<NextLayer>& s, boost::beast::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, s.next_layer(), ec);
}

template <class NextLayer, class TeardownHandler>
void async_teardown(boost::beast::role_type role, frame_guard<NextLayer>& s, TeardownHandler&& handler) {
  if (role == boost::beast::role_type::server) {
    auto& socket = boost::beast::get_lowest_layer(s);  // the TCP socket
    boost::beast::error_code ignored;
    socket.shutdown(boost::asio::socket_base::shutdown_send, ignored);
    socket.close(ignored);
    boost::asio::post(s.get_executor(), boost::beast::bind_front_handler(
                                            std::forward<TeardownHandler>(handler), boost::beast::error_code{}));
    return;
  }
  using boost::beast::websocket::async_teardown;
  async_teardown(role, s.next_layer(), std::forward<TeardownHandler>(handler));
}

}  // namespace apigw::emulator

namespace apigw::emulator {

// What a frame_guard completion is associated with (executor, allocator, cancellation slot): its
// caller's HANDLER's, which it holds as its member `handler`.
template <template <class, class> class Associator, class Handler, class DefaultCandidate>
struct frame_guard_associator : Associator<Handler, DefaultCandidate> {
  template <class Completion>
  static typename Associator<Handler, DefaultCandidate>::type get(const Completion& h) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.handler);
  }
  template <class Completion>
  static auto get(const Completion& h, const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
    return Associator<Handler, DefaultCandidate>::get(h.handler, c);
  }
};

}  // namespace apigw::emulator

template <template <class, class> class Associator, class Handler, class DefaultCandidate>
struct boost::asio::associator<Associator, apigw::emulator::frame_guard_rewritten_write<Handler>, DefaultCandidate>
    : apigw::emulator::frame_guard_associator<Associator, Handler, DefaultCandidate> {};

template <template <class, class> class Associator, class Guard, class Buffers, class Handler, class DefaultCandidate>
struct boost::asio::associator<Associator, apigw::emulator::frame_guard_read<Guard, Buffers, Handler>, DefaultCandidate>
    : apigw::emulator::frame_guard_associator<Associator, Handler, DefaultCandidate> {};
