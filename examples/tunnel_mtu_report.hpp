// tunnel_mtu_report.hpp — the figures tunnel-mtu reports, as one JSON object. Shared by
// the CLI (`tunnel-mtu --json`) and the web page (web/), compiled from the same source,
// so the two never disagree. Not part of the library: an application of it.
#pragma once

#include <encap/spec.hpp>  // the math alone: the page builds it without exceptions

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace encap::report {

inline std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char u[8];
          std::snprintf(u, sizeof u, "\\u%04x", static_cast<unsigned>(c));
          out += u;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// The largest MTU either front end takes: IP's 16-bit length, + 14 when the stack starts at Ethernet.
inline constexpr std::size_t max_mtu = 65535 + 14;

inline std::string num_or_null(const result<std::size_t>& r) { return r ? std::to_string(r.val) : "null"; }

// Why this MTU cannot carry the stack, or nothing if it can.
inline std::optional<std::string> mtu_problem(const stack_spec& s, std::size_t mtu) {
  if (const auto m = max_inner_size(s, mtu); !m)
    return "MTU " + std::to_string(mtu) + " is too small for this stack: " + std::string(to_string(m.err)) +
           " (it needs at least " + std::to_string(required_mtu(s, 1).value_or(0)) + ")";
  return std::nullopt;
}

// Each layer's bytes around an inner packet of n bytes (outermost first): what the
// packet-layout diagram draws.
inline std::string layers_json(const stack_spec& s, std::size_t n, std::size_t mtu) {
  const std::size_t count = s.rules.size();
  std::size_t payload[max_layers] = {}, trailer[max_layers] = {};
  std::size_t size = n;
  for (std::size_t i = count; i-- > 0;) {
    const layer_rule& r = s.rules[i];
    const std::size_t room = room_after(s, mtu, i).value_or(0);
    const std::size_t w = wire_size(r, size, room);
    payload[i] = size;
    trailer[i] = w - r.header_size - size;
    size = w;
  }
  std::string out = "[";
  for (std::size_t i = 0; i < count; ++i) {
    const layer_rule& r = s.rules[i];
    out += (i ? "," : "") + std::string("{\"layer\":") + json_string(to_string(r, s.modes[i])) +
           ",\"kind\":" + json_string(to_string(r.kind)) + ",\"header\":" + std::to_string(r.header_size) +
           ",\"trailer\":" + std::to_string(trailer[i]) + ",\"payload\":" + std::to_string(payload[i]) +
           ",\"inner_header\":" + (r.inner_header ? "true" : "false") + "}";
  }
  return out + "]";
}

// The report: the same keys as ever (esp_plaintext_mtu, max_inner, ...), then the layers
// at the largest inner packet, the inverse question and a sweep when asked.
// Precondition: mtu_problem(s, mtu) is empty.
inline std::string figures_json(const stack_spec& s, std::size_t mtu, std::optional<std::size_t> inner_mtu = std::nullopt,
                                std::optional<std::pair<std::size_t, std::size_t>> sweep = std::nullopt) {
  const auto f = figures(s, mtu);
  const auto range = overhead_over(s, 1, f.max_inner.val, mtu);
  std::string out = "{\"stack\":" + json_string(to_string(s)) + ",\"mtu\":" + std::to_string(mtu) +
                    ",\"esp_plaintext_mtu\":" + num_or_null(f.esp_plaintext_mtu) + ",\"max_inner\":" +
                    std::to_string(f.max_inner.val) + ",\"tcp_mss_ipv4\":" + num_or_null(f.tcp_mss_ipv4) +
                    ",\"tcp_mss_ipv6\":" + num_or_null(f.tcp_mss_ipv6) + ",\"overhead_at_max\":" +
                    std::to_string(f.overhead_at_max) + ",\"wire_size_at_max\":" + std::to_string(f.wire_size_at_max) +
                    ",\"overhead_min\":" + std::to_string(range.min) + ",\"overhead_max\":" + std::to_string(range.max);
  if (inner_mtu)
    out += ",\"inner_mtu\":" + std::to_string(*inner_mtu) + ",\"required_mtu\":" + num_or_null(required_mtu(s, *inner_mtu));
  out += ",\"layers\":" + layers_json(s, f.max_inner.val, mtu);
  if (sweep) {
    out += ",\"sweep\":[";
    for (std::size_t n = sweep->first; n <= sweep->second; ++n) {
      const std::size_t w = wire_size(s, n, mtu);
      out += (n == sweep->first ? "" : ",") + std::string("{\"inner\":") + std::to_string(n) + ",\"wire\":" +
             std::to_string(w) + ",\"fits\":" + (w <= mtu ? "true" : "false") + "}";
    }
    out += "]";
  }
  return out + "}";
}

}  // namespace encap::report
