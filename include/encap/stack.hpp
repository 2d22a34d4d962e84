// encap/stack.hpp — layers composed in packet order, outermost first, as a type:
//
//   constexpr auto gre_over_ipsec = ipv4{} / esp<tunnel, aes256_cbc_hmac_sha1_96>{} / ipv4{} / gre{};
//   static_assert(max_inner_size(gre_over_ipsec, 1500) == 1414);
//
// The type decides every size; a stack is a trivially copyable constexpr value, and an
// illegal stack does not compile: the first error names the rule (its concept) and why.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <type_traits>

#include "layering.hpp"
#include "sizing.hpp"

namespace encap {
inline namespace v0 {

template <class L>
concept layer = requires {
  { L::kind } -> std::convertible_to<layer_kind>;
  { L::rule() } -> std::same_as<layer_rule>;
};

namespace detail {
template <class L> constexpr esp_mode mode_of() noexcept {
  if constexpr (requires { L::mode; }) return L::mode; else return esp_mode::tunnel;
}
}  // namespace detail

// The carrying rules of layering.hpp, one concept per rule so a compiler error names it.
template <class Outer, class Inner>
concept esp_tunnel_mode_carries_an_ip_packet =
    Outer::kind != layer_kind::esp || detail::mode_of<Outer>() != esp_mode::tunnel || is_ip(Inner::kind);
template <class Outer, class Inner>
concept esp_transport_mode_carries_no_ip_packet =
    Outer::kind != layer_kind::esp || detail::mode_of<Outer>() != esp_mode::transport || !is_ip(Inner::kind);
template <class Outer, class Inner>
concept udp_carries_esp_or_an_overlay_not_ip =
    Outer::kind != layer_kind::udp || may_carry(layer_kind::udp, Inner::kind);
template <class Outer, class Inner>
concept outer_layer_can_carry_inner_layer = may_carry(Outer::kind, Inner::kind, detail::mode_of<Outer>());

template <class Outer, class Inner>
concept stackable = layer<Outer> && layer<Inner> &&
                    esp_tunnel_mode_carries_an_ip_packet<Outer, Inner> &&
                    esp_transport_mode_carries_no_ip_packet<Outer, Inner> &&
                    udp_carries_esp_or_an_overlay_not_ip<Outer, Inner> &&
                    outer_layer_can_carry_inner_layer<Outer, Inner>;

namespace detail {
// Aggregate storage: keeps the stack trivially copyable (std::tuple is not).
template <class... Ls> struct layers_of {};
template <class L, class... Rest>
struct layers_of<L, Rest...> {
  L head{};
  [[no_unique_address]] layers_of<Rest...> tail{};
};
template <class First, class... Rest> struct last_of { using type = typename last_of<Rest...>::type; };
template <class Last> struct last_of<Last> { using type = Last; };
}  // namespace detail

template <layer... Ls>
struct stack {
  static_assert(sizeof...(Ls) >= 1 && sizeof...(Ls) <= max_layers);
  static constexpr std::size_t size = sizeof...(Ls);

  // Each layer's rule in context, outermost first: the single input of every calculator.
  static constexpr std::array<layer_rule, sizeof...(Ls)> rules = [] {
    std::array<layer_rule, sizeof...(Ls)> r{Ls::rule()...};
    place_in_stack(r.data(), r.size());
    return r;
  }();

  // Buffer room around the inner packet that encapsulation needs (compile-time constants).
  static constexpr std::size_t headroom = required_headroom(rule_span{rules});
  static constexpr std::size_t tailroom = required_tailroom(rule_span{rules});

  detail::layers_of<Ls...> layers{};

  template <std::size_t I>
  constexpr auto& get() noexcept { return get_impl<I>(layers); }
  template <std::size_t I>
  constexpr const auto& get() const noexcept { return get_impl<I>(layers); }

 private:
  template <std::size_t I, class S>
  static constexpr auto& get_impl(S& s) noexcept {
    if constexpr (I == 0) return s.head; else return get_impl<I - 1>(s.tail);
  }
};

template <class T> inline constexpr bool is_stack_v = false;
template <class... Ls> inline constexpr bool is_stack_v<stack<Ls...>> = true;
template <class T>
concept layer_stack = is_stack_v<std::remove_cvref_t<T>>;

// The carrying rules as static assertions, each message starting with its concept's
// name: the first one that fails is the first error GCC and Clang print. (A constrained
// operator/ would start with "no match for 'operator/'" and bury the rule among the
// candidates.) The general rule is asserted only when the specific ones hold, so one
// mistake gives one error. To test stackability without an error, use stackable<A, B>.
#define ENCAP_ASSERT_STACKABLE(Outer, Inner)                                                                            \
  static_assert(esp_tunnel_mode_carries_an_ip_packet<Outer, Inner>,                                                     \
                "esp_tunnel_mode_carries_an_ip_packet: tunnel-mode ESP carries an IP packet (RFC 4303 §3.1.2): "        \
                "put ipv4{} or ipv6{} after it, or use esp<transport, ...>");                                           \
  static_assert(esp_transport_mode_carries_no_ip_packet<Outer, Inner>,                                                  \
                "esp_transport_mode_carries_no_ip_packet: transport-mode ESP carries what IP would (UDP, GRE, ...), "   \
                "not an IP packet (RFC 4303 §3.1.1): use esp<tunnel, ...>");                                            \
  static_assert(udp_carries_esp_or_an_overlay_not_ip<Outer, Inner>,                                                     \
                "udp_carries_esp_or_an_overlay_not_ip: UDP carries ESP (NAT-T, RFC 3948), VXLAN, GENEVE, WireGuard, "   \
                "L2TPv3, MPLS or GRE, not an IP packet");                                                               \
  static_assert(!(esp_tunnel_mode_carries_an_ip_packet<Outer, Inner> && esp_transport_mode_carries_no_ip_packet<Outer, Inner> && \
                  udp_carries_esp_or_an_overlay_not_ip<Outer, Inner>) ||                                                \
                    outer_layer_can_carry_inner_layer<Outer, Inner>,                                                    \
                "outer_layer_can_carry_inner_layer: the outer layer cannot carry this one (payloads_of in layering.hpp)")

// Composition, in packet order.
template <layer A, layer B>
constexpr stack<A, B> operator/(const A& a, const B& b) noexcept {
  ENCAP_ASSERT_STACKABLE(A, B);
  return stack<A, B>{{a, {b, {}}}};
}

template <layer... Ls, layer B>
constexpr stack<Ls..., B> operator/(const stack<Ls...>& s, const B& b) noexcept {
  ENCAP_ASSERT_STACKABLE(typename detail::last_of<Ls...>::type, B);
  stack<Ls..., B> out{};
  [&]<std::size_t... I>(std::index_sequence<I...>) { ((out.template get<I>() = s.template get<I>()), ...); }(
      std::index_sequence_for<Ls...>{});
  out.template get<sizeof...(Ls)>() = b;
  return out;
}

// The calculators of sizing.hpp, over a typed stack. Same functions, same answers.
template <layer_stack S> constexpr rule_span rules_of(const S&) noexcept { return S::rules; }

template <layer_stack S> constexpr result<std::size_t> max_inner_size(const S& s, std::size_t mtu) noexcept { return max_inner_size(rules_of(s), mtu); }
template <layer_stack S> constexpr result<std::size_t> esp_plaintext_mtu(const S& s, std::size_t mtu) noexcept { return esp_plaintext_mtu(rules_of(s), mtu); }
template <layer_stack S> constexpr result<std::size_t> tcp_mss_ipv4(const S& s, std::size_t mtu) noexcept { return tcp_mss_ipv4(rules_of(s), mtu); }
template <layer_stack S> constexpr result<std::size_t> tcp_mss_ipv6(const S& s, std::size_t mtu) noexcept { return tcp_mss_ipv6(rules_of(s), mtu); }
template <layer_stack S> constexpr result<std::size_t> required_mtu(const S& s, std::size_t inner_mtu) noexcept { return required_mtu(rules_of(s), inner_mtu); }
template <layer_stack S> constexpr std::size_t wire_size(const S& s, std::size_t n, std::size_t mtu = unlimited) noexcept { return wire_size(rules_of(s), n, mtu); }
template <layer_stack S> constexpr std::size_t overhead(const S& s, std::size_t n, std::size_t mtu = unlimited) noexcept { return overhead(rules_of(s), n, mtu); }
template <layer_stack S> constexpr bool fits(const S& s, std::size_t n, std::size_t mtu) noexcept { return fits(rules_of(s), n, mtu); }
template <layer_stack S> constexpr overhead_range overhead_over(const S& s, std::size_t first, std::size_t last, std::size_t mtu = unlimited) noexcept { return overhead_over(rules_of(s), first, last, mtu); }
template <layer_stack S> constexpr tunnel_figures figures(const S& s, std::size_t mtu) noexcept { return figures(rules_of(s), mtu); }

}  // namespace v0
}  // namespace encap
