// The deadlines of the connections of one I/O thread, checked by one timer for all of them: the
// idle timeout, the maximum duration, and the end of a close or a refusal that the client does
// not complete. An idle connection so keeps no timer and no pending wait of its own (about 170
// bytes each), and traffic never touches a timer.
//
// A member is asked for its deadline at every tick and told once it has passed; it is noticed
// within one tick after it passes, never before. The tick is a tenth of the shortest timeout a
// member was added with, from 10 ms to 1 s.
//
// One sweep per io_context, an Asio service of it: deadline_sweep::of(executor).
// Thread-safety: none; a sweep and its members are used on their io_context's thread only.
#pragma once

#include <chrono>

#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>

#include "emulator/net/connection_socket.hpp"

namespace apigw::emulator {

class deadline_sweep : public boost::asio::execution_context::service {
  // A place in the sweep's ring of members (the sweep's own is the ring's head).
  struct link {
    link* prev = nullptr;  // null while not in a sweep
    link* next = nullptr;
  };

 public:
  using clock = std::chrono::steady_clock;

  // What the sweep watches. It unlinks itself when destroyed.
  class member : private link {
   public:
    member() = default;
    member(const member&) = delete;
    member& operator=(const member&) = delete;

    // The time from which expired() is due; clock::time_point::max() for none.
    virtual clock::time_point deadline() const = 0;
    // Called at the first tick at or after deadline() (and at every later one while it stays
    // there): the member acts, moves its deadline, or leaves the sweep.
    virtual void expired(clock::time_point now) = 0;

   protected:
    ~member();

   private:
    friend class deadline_sweep;
  };

  static boost::asio::execution_context::id id;

  explicit deadline_sweep(boost::asio::execution_context& context);

  // The sweep of the io_context that EXECUTOR runs on.
  static deadline_sweep& of(const boost::asio::io_context::executor_type& executor);

  // Watches M, with ticks at most a tenth of TIMEOUT apart (M watched already: only the tick may
  // shorten).
  void add(member& m, clock::duration timeout);
  // Stops watching M; no-op when it is not watched.
  static void remove(member& m);

 private:
  void shutdown() override;
  static void unlink(link& l);
  void arm();
  void sweep();

  connection_timer timer_;
  link head_;  // head_.next is the newest member; the ring ends back at head_
  clock::duration tick_ = std::chrono::seconds(1);
  bool armed_ = false;
  bool shut_down_ = false;
};

}  // namespace apigw::emulator
