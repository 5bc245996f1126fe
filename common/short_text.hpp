// Text of at most N characters held in place, for the ids a request is given: API Gateway's
// 16-character ids are one more than std::string keeps without the heap, and every message gets
// two of them. A NUL follows the characters, as in a std::string: an event's value that refers to
// them (a RapidJSON string reference) is a C string to the handler that reads it.
// Thread-safety: a plain value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace apigw {

template <std::size_t N>
class short_text {
  static_assert(N <= 255, "the size is kept in one byte");

 public:
  static constexpr std::size_t capacity = N;

  short_text() = default;
  // Throws std::length_error when TEXT is longer than N.
  short_text(std::string_view text) { assign(text); }  // NOLINT: converts like a string
  short_text(const char* text) : short_text(std::string_view(text)) {}
  short_text(const std::string& text) : short_text(std::string_view(text)) {}
  template <std::size_t M>
    requires(M < N)
  short_text(const short_text<M>& other) : short_text(other.view()) {}

  std::string_view view() const noexcept { return {chars_.data(), size_}; }
  operator std::string_view() const noexcept { return view(); }  // NOLINT: reads like a string
  std::string str() const { return std::string(view()); }
  const char* data() const noexcept { return chars_.data(); }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  friend bool operator==(const short_text& a, const short_text& b) noexcept { return a.view() == b.view(); }
  friend bool operator==(const short_text& a, std::string_view b) noexcept { return a.view() == b; }
  friend std::string operator+(std::string a, const short_text& b) { return a.append(b.view()); }

 private:
  void assign(std::string_view text) {
    if (text.size() > N) {
      throw std::length_error("short_text: \"" + std::string(text) + "\" is longer than " + std::to_string(N) +
                              " characters");
    }
    if (!text.empty()) std::memmove(chars_.data(), text.data(), text.size());  // an empty view may be null
    chars_[text.size()] = '\0';
    size_ = static_cast<std::uint8_t>(text.size());
  }

  std::array<char, N + 1> chars_{};
  std::uint8_t size_ = 0;
};

}  // namespace apigw
