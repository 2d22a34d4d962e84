// encap/text_error.hpp — an error in text a user wrote (a spec, a suite name, an SA
// line): where it is and what is wrong, with the text and a caret line under the token.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace encap {
inline namespace v0 {

struct text_error {
  std::size_t offset = 0;  // byte offset of the offending token
  std::size_t length = 0;
  std::string message;

  // "error: message", then the text with a caret line under the token.
  std::string format(std::string_view text) const {
    std::string out = "error: " + message + "\n  " + std::string(text) + "\n  ";
    out.append(offset, ' ');
    out.append(length ? length : 1, '^');
    return out;
  }
};

// A parser's answer, in result<T>'s vocabulary: has_value(), value() (or * and ->), error().
template <class T>
class [[nodiscard]] parsed {
 public:
  parsed(T v) : value_(std::move(v)) {}           // NOLINT: implicit by design, as result<T>
  parsed(text_error e) : error_(std::move(e)) {}  // NOLINT
  bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  // On an error: prints the message and position to stderr, then aborts (a programming error).
  const T& value() const {
    if (!value_) {
      std::fprintf(stderr, "encap: parsed::value() called on an error: %s (at offset %zu)\n", error_.message.c_str(), error_.offset);
      std::abort();
    }
    return *value_;
  }
  const T& operator*() const { return value(); }
  const T* operator->() const { return &value(); }
  const text_error& error() const noexcept { return error_; }  // empty message when has_value()

 private:
  std::optional<T> value_;
  text_error error_;
};

}  // namespace v0
}  // namespace encap
