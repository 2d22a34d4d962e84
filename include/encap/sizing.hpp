// encap/sizing.hpp — a layer's wire rule as plain data, and the calculators that fold
// over a stack of rules. Standard library only: a program that needs MTU math links
// nothing else. The compile-time stacks (stack.hpp) and the run-time spec (spec.hpp)
// both produce arrays of layer_rule and call these same functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "layer_table.hpp"  // layer_kind and its names
#include "result.hpp"

namespace encap {
inline namespace v0 {

constexpr bool is_ip(layer_kind k) noexcept { return k == layer_kind::ipv4 || k == layer_kind::ipv6; }

// The longest stack the calculators fold over (the run-time spec enforces it).
inline constexpr std::size_t max_layers = 32;

// "No MTU": large enough for any packet, small enough that sums never wrap (a quarter of
// size_t's range: 1 GiB on 32-bit targets such as i386, 32-bit ARM and wasm32).
inline constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max() / 4;

// One layer's wire rule. For a payload of n bytes, the layer emits
//
//   header_size + roundup(padded(n) + body_extra, align) + extra_padding + trailer_size
//
// where padded(n) = n, or with pad_to > 0: n rounded up to a multiple of pad_to but
// never past what the room allows (ESP TFC padding as Linux clamps it to the MTU;
// WireGuard's 16-byte padding that "never exceeds the MTU").
//
//   ESP:  header = SPI + seq + IV, body_extra = pad length + next header = 2,
//         align = lcm(cipher block, 4), trailer = ICV      (RFC 4303 §2.4, §2.8)
//   GRE, IPv4, UDP, ...: header only, align 1.
struct layer_rule {
  layer_kind kind{};
  std::size_t header_size = 0;    // bytes in front of the payload (ESP: includes the IV)
  std::size_t trailer_size = 0;   // bytes after the aligned body (ESP ICV, MACsec ICV, tag)
  std::size_t align = 1;          // the body (payload + padding + body_extra) is a multiple of this
  std::size_t body_extra = 0;     // fixed bytes inside the aligned body (ESP: pad length, next header)
  std::size_t extra_padding = 0;  // padding beyond the minimum, a multiple of align
  std::size_t pad_to = 0;         // pad the payload to a multiple of this, capped by the room (0: off)
  std::size_t max_size = 0;       // the most bytes the layer can emit, set by its length field (0: none)
  std::uint16_t param = 0;        // layer-specific identity for reports (ESP: suite code)
  bool inner_header = false;      // the inner packet's own header (a trailing IP layer): adds nothing

  friend constexpr bool operator==(const layer_rule&, const layer_rule&) = default;
};

constexpr std::size_t round_up(std::size_t n, std::size_t a) noexcept { return (n + a - 1) / a * a; }
constexpr std::size_t round_down(std::size_t n, std::size_t a) noexcept { return n / a * a; }

// The largest payload this layer can carry when it may emit at most `room` bytes
// (padding to pad_to is clamped, so it never lowers this figure).
constexpr result<std::size_t> max_payload(const layer_rule& r, std::size_t room) noexcept {
  if (r.max_size && room > r.max_size) room = r.max_size;  // IPv4 Total Length, UDP Length: 16 bits
  if (room >= unlimited) return unlimited;
  const std::size_t fixed = r.header_size + r.trailer_size + r.extra_padding;
  if (room < fixed) return errc::mtu_too_small;
  const std::size_t body = round_down(room - fixed, r.align);
  if (body <= r.body_extra) return errc::mtu_too_small;  // not even one byte of payload
  return body - r.body_extra;
}

// The payload after clamped padding (TFC, WireGuard): n rounded up to pad_to, but not
// past the largest payload the room allows, and never less than n.
constexpr std::size_t padded_payload(const layer_rule& r, std::size_t n, std::size_t room = unlimited) noexcept {
  if (r.pad_to <= 1) return n;
  const auto cap = max_payload(r, room);
  const std::size_t limit = cap.has_value() ? cap.value() : 0;
  const std::size_t want = round_up(n, r.pad_to);
  return want < limit ? want : (limit > n ? limit : n);
}

// Bytes the layer emits for a payload of n bytes with at most `room` available
// (room only matters for clamped padding; the result may exceed room: it does not fit).
constexpr std::size_t wire_size(const layer_rule& r, std::size_t n, std::size_t room = unlimited) noexcept {
  const std::size_t p = padded_payload(r, n, room);
  return r.header_size + round_up(p + r.body_extra, r.align) + r.extra_padding + r.trailer_size;
}

// Buffer space a caller must leave around the inner packet ("room", not overhead):
// every header in front; behind, the worst-case trailer (alignment padding, extra
// padding, clamped padding of up to pad_to - 1 bytes, fixed trailer bytes).
constexpr std::size_t required_headroom(const layer_rule& r) noexcept { return r.header_size; }
constexpr std::size_t required_tailroom(const layer_rule& r) noexcept {
  return (r.pad_to > 1 ? r.pad_to - 1 : 0) + (r.align - 1) + r.extra_padding + r.body_extra + r.trailer_size;
}

using rule_span = std::span<const layer_rule>;

// ---- calculators over a stack of rules, outermost first ------------------------------

// The room each layer's payload may use, for a path MTU at the outermost layer.
// room_after(rules, mtu, i) is what layer i may carry; i == size() gives the inner packet.
constexpr result<std::size_t> room_after(rule_span rules, std::size_t mtu, std::size_t layers) noexcept {
  std::size_t room = mtu;
  for (std::size_t i = 0; i < layers && i < rules.size(); ++i) {
    const auto next = max_payload(rules[i], room);
    if (!next) return next;
    room = next.value();
  }
  return room;
}

// The largest inner packet (the payload of the innermost layer) that fits the path MTU.
constexpr result<std::size_t> max_inner_size(rule_span rules, std::size_t mtu) noexcept {
  return room_after(rules, mtu, rules.size());
}

// Bytes on the wire (as the outermost layer emits them) for an inner packet of n bytes.
// With an MTU, clamped padding is clamped to it; the result says nothing about fitting.
constexpr std::size_t wire_size(rule_span rules, std::size_t n, std::size_t mtu = unlimited) noexcept {
  // rooms are computed outside-in, sizes inside-out; rooms below an unusable layer are 0
  std::size_t rooms[max_layers] = {};
  const std::size_t count = rules.size() < max_layers ? rules.size() : max_layers;
  std::size_t room = mtu;
  for (std::size_t i = 0; i < count; ++i) {
    rooms[i] = room;
    const auto next = max_payload(rules[i], room);
    room = next.has_value() ? next.value() : 0;
  }
  std::size_t size = n;
  for (std::size_t i = count; i-- > 0;) size = wire_size(rules[i], size, rooms[i]);
  return size;
}

constexpr std::size_t required_headroom(rule_span rules) noexcept {
  std::size_t n = 0;
  for (const auto& r : rules) n += required_headroom(r);
  return n;
}
constexpr std::size_t required_tailroom(rule_span rules) noexcept {
  std::size_t n = 0;
  for (const auto& r : rules) n += required_tailroom(r);
  return n;
}

constexpr std::size_t overhead(rule_span rules, std::size_t n, std::size_t mtu = unlimited) noexcept {
  return wire_size(rules, n, mtu) - n;
}

constexpr bool fits(rule_span rules, std::size_t n, std::size_t mtu) noexcept {
  return wire_size(rules, n, mtu) <= mtu;
}

// Index of the outermost ESP layer, or rules.size() if there is none.
constexpr std::size_t find_layer(rule_span rules, layer_kind k) noexcept {
  for (std::size_t i = 0; i < rules.size(); ++i)
    if (rules[i].kind == k) return i;
  return rules.size();
}

// What Cisco IOS prints as "plaintext mtu" and Linux computes in xfrm_state_mtu():
// the largest payload of the outermost ESP layer.
constexpr result<std::size_t> esp_plaintext_mtu(rule_span rules, std::size_t mtu) noexcept {
  const std::size_t i = find_layer(rules, layer_kind::esp);
  if (i == rules.size()) return errc::no_such_layer;
  return room_after(rules, mtu, i + 1);
}

// TCP MSS for inner traffic: the inner packet less the IP and TCP headers (no options).
inline constexpr std::size_t ipv4_tcp_headers_size = 20 + 20;
inline constexpr std::size_t ipv6_tcp_headers_size = 40 + 20;

constexpr result<std::size_t> mss_for_mtu(std::size_t tunnel_mtu, std::size_t headers) noexcept {
  if (tunnel_mtu <= headers) return errc::mtu_too_small;
  return tunnel_mtu - headers;
}
constexpr result<std::size_t> tcp_mss_ipv4(std::size_t tunnel_mtu) noexcept { return mss_for_mtu(tunnel_mtu, ipv4_tcp_headers_size); }
constexpr result<std::size_t> tcp_mss_ipv6(std::size_t tunnel_mtu) noexcept { return mss_for_mtu(tunnel_mtu, ipv6_tcp_headers_size); }

constexpr result<std::size_t> tcp_mss_ipv4(rule_span rules, std::size_t mtu) noexcept {
  const auto m = max_inner_size(rules, mtu);
  return m ? tcp_mss_ipv4(m.value()) : m;
}
constexpr result<std::size_t> tcp_mss_ipv6(rule_span rules, std::size_t mtu) noexcept {
  const auto m = max_inner_size(rules, mtu);
  return m ? tcp_mss_ipv6(m.value()) : m;
}

// The smallest underlay MTU whose max inner size is at least inner_mtu.
// max_inner_size is non-decreasing in the MTU, so a binary search finds it.
constexpr result<std::size_t> required_mtu(rule_span rules, std::size_t inner_mtu) noexcept {
  if (inner_mtu == 0 || inner_mtu >= unlimited) return errc::size_out_of_range;
  std::size_t lo = inner_mtu, hi = wire_size(rules, inner_mtu);  // hi always suffices
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const auto m = max_inner_size(rules, mid);
    if (m.has_value() && m.value() >= inner_mtu) hi = mid; else lo = mid + 1;
  }
  return lo;
}

struct overhead_range {
  std::size_t min = 0, max = 0;
  std::size_t min_at = 0, max_at = 0;  // the first inner size where each is reached
  friend constexpr bool operator==(const overhead_range&, const overhead_range&) = default;
};

// Minimum and maximum overhead over inner sizes [first, last] (clamped padding uses mtu).
constexpr overhead_range overhead_over(rule_span rules, std::size_t first, std::size_t last,
                                       std::size_t mtu = unlimited) noexcept {
  overhead_range r{};
  for (std::size_t n = first; n <= last; ++n) {
    const std::size_t o = overhead(rules, n, mtu);
    if (n == first || o < r.min) { r.min = o; r.min_at = n; }
    if (n == first || o > r.max) { r.max = o; r.max_at = n; }
  }
  return r;
}

// Every figure a tunnel report needs, computed once.
struct tunnel_figures {
  std::size_t mtu = 0;
  result<std::size_t> max_inner{};
  result<std::size_t> esp_plaintext_mtu{};
  result<std::size_t> tcp_mss_ipv4{}, tcp_mss_ipv6{};
  std::size_t overhead_at_max = 0, wire_size_at_max = 0;
};

constexpr tunnel_figures figures(rule_span rules, std::size_t mtu) noexcept {
  tunnel_figures f{};
  f.mtu = mtu;
  f.max_inner = max_inner_size(rules, mtu);
  f.esp_plaintext_mtu = esp_plaintext_mtu(rules, mtu);
  f.tcp_mss_ipv4 = tcp_mss_ipv4(rules, mtu);
  f.tcp_mss_ipv6 = tcp_mss_ipv6(rules, mtu);
  if (f.max_inner) {
    f.wire_size_at_max = wire_size(rules, f.max_inner.value(), mtu);
    f.overhead_at_max = f.wire_size_at_max - f.max_inner.value();
  }
  return f;
}

}  // namespace v0
}  // namespace encap
