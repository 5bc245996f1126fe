#include "emulator/net/deadline_sweep.hpp"

#include <algorithm>

namespace apigw::emulator {

namespace {

constexpr deadline_sweep::clock::duration kShortestTick = std::chrono::milliseconds(10);
constexpr deadline_sweep::clock::duration kLongestTick = std::chrono::seconds(1);

}  // namespace

boost::asio::execution_context::id deadline_sweep::id;

deadline_sweep::member::~member() { remove(*this); }

deadline_sweep::deadline_sweep(boost::asio::execution_context& context)
    : boost::asio::execution_context::service(context),
      timer_(static_cast<boost::asio::io_context&>(context).get_executor()),
      tick_(kLongestTick) {
  head_.prev = head_.next = &head_;
}

deadline_sweep& deadline_sweep::of(const boost::asio::io_context::executor_type& executor) {
  return boost::asio::use_service<deadline_sweep>(executor.context());
}

void deadline_sweep::add(member& m, clock::duration timeout) {
  if (shut_down_) return;
  const auto tick = std::clamp(timeout / 10, kShortestTick, kLongestTick);
  if (tick < tick_) {
    tick_ = tick;
    // A wait armed for a longer tick is cut short (its handler then sees operation_aborted).
    if (armed_ && timer_.expiry() > clock::now() + tick_) {
      armed_ = false;
      timer_.cancel();
    }
  }
  link& l = m;
  if (l.prev == nullptr) {
    l.prev = &head_;
    l.next = head_.next;
    head_.next->prev = &l;
    head_.next = &l;
  }
  arm();
}

void deadline_sweep::remove(member& m) { unlink(m); }

void deadline_sweep::unlink(link& l) {
  if (l.prev == nullptr) return;
  l.prev->next = l.next;
  l.next->prev = l.prev;
  l.prev = l.next = nullptr;
}

void deadline_sweep::arm() {
  if (armed_ || shut_down_ || head_.next == &head_) return;
  armed_ = true;
  timer_.expires_after(tick_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: a shorter tick was armed instead, or the io_context is ending
    armed_ = false;
    sweep();
  });
}

void deadline_sweep::sweep() {
  const auto now = clock::now();
  // A member may leave the sweep in expired() (it never removes another one).
  for (link* l = head_.next; l != &head_;) {
    link* next = l->next;
    auto& m = static_cast<member&>(*l);
    if (m.deadline() <= now) m.expired(now);
    l = next;
  }
  arm();
}

// The io_context is ending: its members are destroyed with its pending operations, after this.
void deadline_sweep::shutdown() {
  shut_down_ = true;
  while (head_.next != &head_) unlink(*head_.next);
}

}  // namespace apigw::emulator
