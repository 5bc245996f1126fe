// Stage throttling: a token bucket of burstLimit tokens refilled at rateLimit tokens a second,
// as API Gateway throttles a stage; one request takes one token, none left means 429.
// Thread-safety: try_take() is safe from any thread (one mutex). A stage without throttling has
// no bucket at all, so that its connections pay nothing for the feature.
#pragma once

#include <algorithm>
#include <chrono>
#include <mutex>

namespace apigw::emulator {

class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  // Starts full: a burst may come at once.
  token_bucket(double rate_per_second, double burst, clock::time_point now = clock::now())
      : rate_(rate_per_second), burst_(burst), tokens_(burst), last_(now) {}

  // Takes one token at NOW; false when less than one is left (the request is throttled).
  bool try_take(clock::time_point now = clock::now()) {
    std::lock_guard lock(mutex_);
    if (now > last_) {
      const double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
      last_ = now;
    }
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  std::mutex mutex_;
  const double rate_;
  const double burst_;
  double tokens_;
  clock::time_point last_;
};

}  // namespace apigw::emulator
