// The one error type of the emulator's own code: a call that can fail returns a `status` (nothing
// else to say on success) or a `result<T>` (a T on success). Both carry an error message for
// people: what was wrong, where, what is allowed. Shaped like C++23's std::expected, which GCC 12
// does not have, so that moving to it later is a rename.
//
//   result<api_spec> load(...);
//   auto spec = load(...);
//   if (!spec) return fail("api.json: " + spec.error());   // or: return spec.status();
//   use(*spec);
//
// AWS's own answers (a DynamoDB error, a management API status, a SigV4 verdict) are not failures
// of a call: they stay values of their own types.
// Thread-safety: plain values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace apigw {

// What went wrong, for a person to read: `return fail("...")` from a function returning a status
// or a result.
struct failure {
  std::string message;
};
inline failure fail(std::string message) { return failure{std::move(message)}; }

// Success, or an error.
class [[nodiscard]] status {
 public:
  status() = default;
  status(failure f) : error_(std::move(f.message)) {}  // NOLINT: a failure converts to a status
  static status ok() { return {}; }

  bool is_ok() const { return !error_; }
  explicit operator bool() const { return is_ok(); }
  // REQUIRES: !is_ok().
  const std::string& error() const& { return *error_; }
  std::string&& error() && { return std::move(*error_); }

 private:
  std::optional<std::string> error_;
};

// A T, or an error.
template <class T>
class [[nodiscard]] result {
  static_assert(!std::is_same_v<T, std::string>, "a result<std::string> reads ambiguously; wrap T");

 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}                    // NOLINT
  result(const char*) = delete;  // a message is a failure: fail("…")
  result(failure f) : v_(std::in_place_index<1>, std::move(f.message)) {}              // NOLINT
  // A failed status passes its error on. REQUIRES: !s.
  result(const apigw::status& s) : v_(std::in_place_index<1>, s.error()) {}            // NOLINT
  // Anything T is made from, except text: `return "message";` where fail() was forgotten must not
  // compile as a success.
  template <class U, std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                          !std::is_convertible_v<U&&, std::string_view> &&
                                          !std::is_same_v<std::decay_t<U>, result> &&
                                          !std::is_same_v<std::decay_t<U>, failure> &&
                                          !std::is_same_v<std::decay_t<U>, apigw::status>,
                                      int> = 0>
  result(U&& value) : v_(std::in_place_index<0>, T(std::forward<U>(value))) {}         // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  // REQUIRES: has_value().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !has_value().
  const std::string& error() const& { return std::get<1>(v_); }
  std::string&& error() && { return std::get<1>(std::move(v_)); }

  // The error as a status (ok when there is a value).
  apigw::status status() const { return has_value() ? apigw::status() : apigw::status(fail(error())); }

 private:
  std::variant<T, std::string> v_;
};

}  // namespace apigw
