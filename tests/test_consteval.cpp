// Compile-time and run-time answers are equal: every suite, both modes, both underlays,
// NAT-T on and off, as typed stacks evaluated in constant expressions, against the same
// stacks parsed from text at run time.
#include <encap/encap.hpp>

#include <doctest/doctest.h>

#include <array>
#include <string>
#include <utility>

using namespace encap;

namespace {

constexpr std::array<std::size_t, 9> mtus{68, 96, 576, 1280, 1400, 1492, 1500, 4470, 9000};

template <std::size_t I>
struct suite_at {
  static constexpr esp_suite value = all_suites[I];
};

struct case_result {
  std::string spec;
  std::array<std::size_t, mtus.size()> max_inner, plaintext;  // 0 where the MTU is too small
};

template <class S>
constexpr auto at_compile_time(const S& s) {
  std::pair<std::array<std::size_t, mtus.size()>, std::array<std::size_t, mtus.size()>> out{};
  for (std::size_t i = 0; i < mtus.size(); ++i) {
    out.first[i] = max_inner_size(s, mtus[i]).value_or(0);
    out.second[i] = esp_plaintext_mtu(s, mtus[i]).value_or(0);
  }
  return out;
}

// The text form of a case: one function for all 624 (not built per instantiation: compile time)
[[gnu::noinline]] case_result text_case(bool v6, bool nat_t, bool tunnel_mode, std::size_t i,
                                         const std::array<std::size_t, mtus.size()>& max_inner,
                                         const std::array<std::size_t, mtus.size()>& plaintext) {
  std::string text = v6 ? "ipv6" : "ipv4";
  if (nat_t) text += "/udp";
  text += "/esp(" + to_string(all_suites[i]) + ")";
  text += tunnel_mode ? "/ipv4/gre" : "/gre";
  return {text, max_inner, plaintext};
}

template <class Under, bool NatT, class Mode, std::size_t I>
case_result one_case() {
  using E = esp<Mode, suite_at<I>>;
  constexpr auto s = [] {
    if constexpr (std::is_same_v<Mode, tunnel>) {
      if constexpr (NatT) return Under{} / udp{} / E{} / ipv4{} / gre{}; else return Under{} / E{} / ipv4{} / gre{};
    } else {
      if constexpr (NatT) return Under{} / udp{} / E{} / gre{}; else return Under{} / E{} / gre{};
    }
  }();
  static constexpr auto v = at_compile_time(s);  // a constant expression: evaluated by the compiler
  return text_case(std::is_same_v<Under, ipv6>, NatT, std::is_same_v<Mode, tunnel>, I, v.first, v.second);
}

template <class Under, bool NatT, class Mode, std::size_t... I>
void collect(std::vector<case_result>& out, std::index_sequence<I...>) {
  (out.push_back(one_case<Under, NatT, Mode, I>()), ...);
}

}  // namespace

TEST_SUITE("consteval") {
  TEST_CASE("compile-time and run-time answers are equal for every suite, mode, underlay and NAT-T") {
    std::vector<case_result> cases;
    constexpr auto idx = std::make_index_sequence<suite_count>{};
    collect<ipv4, false, tunnel>(cases, idx);
    collect<ipv4, true, tunnel>(cases, idx);
    collect<ipv6, false, tunnel>(cases, idx);
    collect<ipv6, true, tunnel>(cases, idx);
    collect<ipv4, false, transport>(cases, idx);
    collect<ipv4, true, transport>(cases, idx);
    collect<ipv6, false, transport>(cases, idx);
    collect<ipv6, true, transport>(cases, idx);
    REQUIRE(cases.size() == 8 * suite_count);
    for (const auto& c : cases) {
      CAPTURE(c.spec);
      const auto parsed = parse_spec(c.spec);
      REQUIRE(parsed);
      for (std::size_t i = 0; i < mtus.size(); ++i) {
        CHECK(max_inner_size(*parsed, mtus[i]).value_or(0) == c.max_inner[i]);
        CHECK(esp_plaintext_mtu(*parsed, mtus[i]).value_or(0) == c.plaintext[i]);
      }
    }
  }
}
