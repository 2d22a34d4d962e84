// encap/result.hpp — errors as values: errc, result<T>, std::error_code bridge.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <system_error>
#include <type_traits>

namespace encap {
inline namespace v0 {

// Every failure the library reports. The name says which check failed.
enum class errc : std::uint8_t {
  ok = 0,
  // sizing
  mtu_too_small,          // nothing fits the given MTU
  inner_too_large,        // the inner packet does not fit the path MTU
  size_out_of_range,      // a size parameter is outside what the layer allows
  no_such_layer,          // the stack has no layer of the kind asked about (e.g. no ESP)
  // configuration
  invalid_suite,          // cipher/integrity combination rejected
  invalid_key_size,
  invalid_spec,           // run-time stack spec did not parse
};

constexpr const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::ok: return "ok";
    case errc::mtu_too_small: return "MTU too small to carry any inner packet";
    case errc::inner_too_large: return "inner packet does not fit the path MTU";
    case errc::size_out_of_range: return "size out of range";
    case errc::no_such_layer: return "the stack has no such layer";
    case errc::invalid_suite: return "invalid ESP suite";
    case errc::invalid_key_size: return "invalid key size";
    case errc::invalid_spec: return "invalid stack spec";
  }
  return "unknown encap error";
}

// A trivially copyable value-or-error with std::expected's member names.
// (Not std::expected: GCC 12 has it only in C++23, Clang 14 + libstdc++ 12 not at all.)
template <class T>
struct [[nodiscard]] result {
  static_assert(std::is_trivially_copyable_v<T>, "result<T> carries plain values");
  T val{};
  errc err = errc::ok;

  constexpr result() = default;
  constexpr result(T v) noexcept : val(v) {}                         // NOLINT: implicit by design
  constexpr result(errc e) noexcept : err(e) {}                      // NOLINT
  constexpr bool has_value() const noexcept { return err == errc::ok; }
  constexpr explicit operator bool() const noexcept { return has_value(); }
  constexpr errc error() const noexcept { return err; }
  constexpr T value() const noexcept {
    if (!has_value()) bad_access();  // a programming error: not a constant expression, aborts at run time
    return val;
  }
  constexpr T value_or(T other) const noexcept { return has_value() ? val : other; }
  constexpr T operator*() const noexcept { return value(); }
  friend constexpr bool operator==(const result&, const result&) = default;
  friend constexpr bool operator==(const result& r, const T& v) noexcept { return r.has_value() && r.val == v; }
  friend constexpr bool operator==(const result& r, errc e) noexcept { return r.err == e; }

 private:
  [[noreturn]] static void bad_access() noexcept { std::abort(); }
};

class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "encap"; }
  std::string message(int ev) const override { return to_string(static_cast<errc>(ev)); }
};

inline const std::error_category& error_category() noexcept {
  static const error_category_impl cat;
  return cat;
}

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace v0
}  // namespace encap

template <>
struct std::is_error_code_enum<encap::errc> : std::true_type {};
