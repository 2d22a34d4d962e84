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
#include <vector>

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

// The largest number either front end reads as an MTU; the stack then sets its own limit.
inline constexpr std::size_t max_mtu = 1000000;

inline std::string num_or_null(const result<std::size_t>& r) { return r ? std::to_string(r.val) : "null"; }

// The index of the outermost IP layer, or size() when the stack has none.
inline std::size_t first_ip(const stack_spec& s) {
  for (std::size_t i = 0; i < s.rules.size(); ++i)
    if (is_ip(s.rules[i].kind) && !s.rules[i].inner_header) return i;
  return s.rules.size();
}

// The largest --mtu the stack can use: the outermost IP layer's packet limit (IPv4's
// Total Length, RFC 791; IPv6's Payload Length, RFC 8200: 16 bits each) plus the bytes of
// the layers in front of it. Without IP: IPv6's.
inline std::size_t largest_mtu(const stack_spec& s) {
  const std::size_t ip = first_ip(s);
  if (ip == s.rules.size()) return ipv6_max_size;
  std::size_t front = 0;
  for (std::size_t i = 0; i < ip; ++i) front += s.rules[i].header_size + s.rules[i].trailer_size;
  return s.rules[ip].max_size + front;
}

// Why this MTU cannot carry the stack, or nothing if it can.
inline std::optional<std::string> mtu_problem(const stack_spec& s, std::size_t mtu) {
  if (const std::size_t top = largest_mtu(s); mtu > top) {
    const std::size_t ip = first_ip(s);
    std::string why = ip == s.rules.size() ? std::string("IPv6's largest packet")
                    : s.rules[ip].kind == layer_kind::ipv4 ? std::string("IPv4's Total Length is 16 bits (RFC 791): 65535 bytes at most")
                                                           : std::string("IPv6's Payload Length is 16 bits (RFC 8200; jumbograms are not modelled)");
    if (ip > 0 && ip < s.rules.size()) why += ", plus " + std::to_string(top - s.rules[ip].max_size) + " bytes of headers in front";
    return "MTU " + std::to_string(mtu) + " is larger than this stack can use: " + why + "; at most " + std::to_string(top);
  }
  if (const auto m = max_inner_size(s, mtu); !m)
    return "MTU " + std::to_string(mtu) + " is too small for this stack: " + std::string(to_string(m.err)) +
           " (it needs at least " + std::to_string(required_mtu(s, 1).value_or(0)) + ")";
  return std::nullopt;
}

// Each layer's payload and trailer bytes around an inner packet of n bytes, outermost
// first (clamped padding uses each layer's room): what the layers array and the diagram draw.
struct layer_bytes { std::size_t payload[max_layers] = {}, trailer[max_layers] = {}; };

inline layer_bytes bytes_around(const stack_spec& s, std::size_t n, std::size_t mtu) {
  layer_bytes b;
  std::size_t size = n;
  for (std::size_t i = s.rules.size(); i-- > 0;) {
    const layer_rule& r = s.rules[i];
    const std::size_t w = wire_size(r, size, room_after(s, mtu, i).value_or(0));
    b.payload[i] = size;
    b.trailer[i] = w - r.header_size - size;
    size = w;
  }
  return b;
}

inline std::string layers_json(const stack_spec& s, std::size_t n, std::size_t mtu) {
  const std::size_t count = s.rules.size();
  const layer_bytes b = bytes_around(s, n, mtu);
  std::string out = "[";
  for (std::size_t i = 0; i < count; ++i) {
    const layer_rule& r = s.rules[i];
    if (i) out += ',';
    out += "{\"layer\":" + json_string(to_string(r, s.modes[i])) +
           ",\"kind\":" + json_string(to_string(r.kind)) + ",\"header\":" + std::to_string(r.header_size) +
           ",\"trailer\":" + std::to_string(b.trailer[i]) + ",\"payload\":" + std::to_string(b.payload[i]) +
           ",\"inner_header\":" + (r.inner_header ? "true" : "false") + "}";
  }
  return out + "]";
}

// ---- what --mtu means, and the limits IP puts on every layer ---------------------------

// When the stack starts below IP, --mtu is a frame size, not an IP MTU: say which.
inline std::optional<std::string> mtu_meaning(const stack_spec& s, std::size_t mtu) {
  if (is_ip(s.rules[0].kind)) return std::nullopt;
  const std::size_t ip = first_ip(s);
  std::string out = "--mtu " + std::to_string(mtu) + " counts the whole " + std::string(to_string(s.rules[0].kind)) +
                    " frame, its headers included";
  if (s.rules[0].kind == layer_kind::ethernet) out += " (not the 4-byte FCS)";
  if (ip < s.rules.size())
    out += "; the IP MTU of the " + std::string(to_string(s.rules[ip].kind)) + " layer it carries is " +
           std::to_string(room_after(s, mtu, ip).value_or(0));
  return out;
}

// Limits IP sets that a stack can break without making the arithmetic impossible: the
// IPv6 minimum link MTU (RFC 8200 §5), IPv4's minimum (RFC 791: every host takes 68), and
// what the tunnel offers the IPv6 or IPv4 packets it carries.
inline std::vector<std::string> limit_warnings(const stack_spec& s, std::size_t mtu) {
  std::vector<std::string> out;
  const std::size_t n = s.rules.size();
  for (std::size_t i = 0; i < n; ++i) {
    const layer_rule& r = s.rules[i];
    if (!is_ip(r.kind) || r.inner_header) continue;
    const std::size_t link = room_after(s, mtu, i).value_or(0);
    const std::string where = "layer " + std::to_string(i + 1) + " (" + std::string(to_string(r.kind)) + ")";
    if (r.kind == layer_kind::ipv6 && link < 1280)
      out.push_back(where + " runs over a " + std::to_string(link) +
                    "-byte link MTU, below IPv6's minimum of 1280 (RFC 8200 §5): the link below it must fragment and reassemble");
    if (r.kind == layer_kind::ipv4 && link < 68)
      out.push_back(where + " runs over a " + std::to_string(link) + "-byte link MTU, below IPv4's minimum of 68 (RFC 791)");
  }
  const auto inner = max_inner_size(s, mtu);
  if (!inner || find_layer(s, layer_kind::iptfs) < n) return out;  // IP-TFS splits inner packets: no tunnel MTU
  const layer_rule& last = s.rules[n - 1];
  const bool carries_ip = last.inner_header;
  const bool may_be_v6 = !carries_ip || last.kind == layer_kind::ipv6;
  if (may_be_v6 && inner.value() < 1280) {
    const auto need = required_mtu(s, 1280);
    out.push_back(std::string(carries_ip ? "the tunnel carries IPv6" : "if the tunnel carries IPv6") + ", its MTU " +
                  std::to_string(inner.value()) + " is below IPv6's minimum of 1280 (RFC 8200 §5): fragment below IPv6 " +
                  "(RFC 4213 §3.2) or raise the underlay MTU to " + std::to_string(need.value_or(0)));
  }
  if (carries_ip && last.kind == layer_kind::ipv4 && inner.value() < 68)
    out.push_back("the tunnel carries IPv4, and its MTU " + std::to_string(inner.value()) + " is below IPv4's minimum of 68 (RFC 791)");
  return out;
}

// ---- the ESP figures as Cisco and Linux define them ----------------------------------

// encap's "ESP plaintext MTU" is the largest ESP payload (RFC 4303's Payload Data). Cisco
// IOS's "plaintext mtu" (show crypto ipsec sa) and Linux's xfrm_state_mtu() agree with it
// in tunnel mode; in transport mode both count the IP header that stays in front of ESP
// (the kernel's net_adj), so they are larger by that header: 1458 where encap says 1438.
struct esp_labels {
  bool present = false;
  esp_mode mode = esp_mode::tunnel;
  result<std::size_t> plaintext{};  // encap's: the ESP payload
  std::size_t kept_header = 0;      // transport mode: the IP header ESP leaves in front
  result<std::size_t> vendor{};     // Cisco 'plaintext mtu'
  result<std::size_t> linux_mtu{};      // Linux xfrm_state_mtu(): the same, except for ESP in TCP
};

inline esp_labels esp_figures(const stack_spec& s, std::size_t mtu) {
  esp_labels e;
  const std::size_t at = find_layer(s, layer_kind::esp);
  if (at == s.rules.size()) return e;
  e.present = true;
  e.mode = s.modes[at];
  e.plaintext = esp_plaintext_mtu(s, mtu);
  if (e.mode == esp_mode::transport)
    for (std::size_t i = at; i-- > 0;)
      if (is_ip(s.rules[i].kind)) { e.kept_header = s.rules[i].header_size; break; }
  e.vendor = e.plaintext ? result<std::size_t>(e.plaintext.val + e.kept_header) : e.plaintext;
  e.linux_mtu = e.vendor;
  if (at > 0 && s.rules[at - 1].kind == layer_kind::tcp && e.plaintext) {
    // ESP in TCP (RFC 8229): the kernel's header_len counts the 2-byte length but not the
    // TCP header (esp4.c esp_init_state, TCP_ENCAP_ESPINTCP), so its figure is the ESP
    // payload of a packet as large as the TCP segment's IP packet.
    const auto room = room_after(s, mtu, at - 1);
    e.linux_mtu = room ? max_payload(s.rules[at], room.val).value_or(0) + e.kept_header : room;
    e.vendor = errc::no_such_layer;  // Cisco IOS has no ESP-in-TCP SA to print
  }
  return e;
}

// ---- IP-TFS: a payload rate, not a largest packet -----------------------------------

// IP-TFS (RFC 9347) packs inner packets back to back into the outer packets and splits
// those that do not fit, so no inner packet is too big: the underlay gives each outer
// packet `payload` bytes of inner packets, and an inner packet of n bytes costs
// n * overhead / payload bytes on average (full outer packets).
struct iptfs_figures {
  bool present = false;
  std::size_t payload = 0;   // inner-packet bytes per outer packet
  std::size_t overhead = 0;  // the rest of the outer packet
};

inline iptfs_figures iptfs_of(const stack_spec& s, std::size_t mtu) {
  const std::size_t at = find_layer(s, layer_kind::iptfs);
  if (at == s.rules.size()) return {};
  const std::size_t payload = room_after(s, mtu, at + 1).value_or(0);
  return {true, payload, mtu - payload};
}

inline double iptfs_cost(const iptfs_figures& t, std::size_t n) {
  return t.payload ? static_cast<double>(n) * static_cast<double>(t.overhead) / static_cast<double>(t.payload) : 0.0;
}

// ---- --explain: the arithmetic layer by layer, as docs/mtu.md's worked example ------

struct explain_step {
  std::string what;     // "esp encrypted part"
  std::string formula;  // "floor((1480 - 36) / 16) * 16"
  std::size_t value = 0;
  std::string note;     // "available to gre", "ESP plaintext MTU"
};

inline std::string layer_label(const stack_spec& s, std::size_t i) { return std::string(to_string(s.rules[i].kind)); }

// Precondition: mtu_problem(s, mtu) is empty.
inline std::vector<explain_step> explain(const stack_spec& s, std::size_t mtu) {
  std::vector<explain_step> out;
  const std::size_t n = s.rules.size();
  out.push_back({is_ip(s.rules[0].kind) ? "underlay MTU" : "underlay MTU (the whole frame)", "", mtu, ""});
  std::size_t room = mtu;
  const auto next_name = [&](std::size_t i) {
    for (std::size_t j = i + 1; j < n; ++j)
      if (!s.rules[j].inner_header) return "available to " + layer_label(s, j);
    return std::string("available to the inner packet");
  };
  const auto num = [](std::size_t v) { return std::to_string(v); };
  for (std::size_t i = 0; i < n; ++i) {
    const layer_rule& r = s.rules[i];
    const std::string name = layer_label(s, i);
    if (r.inner_header) {
      out.push_back({name, "the inner packet's own header: adds nothing", room, ""});
      continue;
    }
    if (r.max_size && room > r.max_size) {
      out.push_back({name + " length limit", "min(" + num(room) + ", " + num(r.max_size) + ")", r.max_size,
                     "its length field is 16 bits"});
      room = r.max_size;
    }
    const std::size_t payload = max_payload(r, room).value_or(0);
    if (r.kind == layer_kind::esp) {
      const esp_suite suite = esp_suite::from_code(r.param);
      const std::size_t fixed = r.header_size + r.trailer_size + r.extra_padding;
      std::string parts = "8 (SPI, seq) + " + num(suite.iv_size()) + " (IV) + " + num(r.trailer_size) + " (ICV)";
      if (r.extra_padding) parts += " + " + num(r.extra_padding) + " (pad=)";
      out.push_back({"esp fixed parts", parts, fixed, ""});
      const std::size_t body = round_down(room - fixed, r.align);
      out.push_back({"esp encrypted part", "floor((" + num(room) + " - " + num(fixed) + ") / " + num(r.align) + ") * " + num(r.align),
                     body, "a multiple of " + num(r.align) + " (RFC 4303 §2.4)"});
      out.push_back({"esp payload", num(body) + " - 2 (pad length, next header)", payload,
                     "ESP plaintext MTU; " + next_name(i)});
    } else {
      std::string f = num(room) + " - " + num(r.header_size) + " (" + name + " header)";
      if (r.trailer_size) f += " - " + num(r.trailer_size) + " (trailer)";
      if (r.extra_padding) f += " - " + num(r.extra_padding) + " (padding)";
      if (r.align > 1) f = "floor((" + f + ") / " + num(r.align) + ") * " + num(r.align);
      if (r.body_extra) f += " - " + num(r.body_extra) + " (fixed bytes inside the padded body)";
      out.push_back({name, f, payload, r.kind == layer_kind::iptfs ? "payload per outer packet (RFC 9347)" : next_name(i)});
    }
    if (r.pad_to > 1)
      out.push_back({name + " padding", "to a multiple of " + num(r.pad_to) + ", never past the room", payload,
                     "clamped, so it does not lower the figure"});
    room = payload;
  }
  out.push_back({"max inner packet", "", room, "the tunnel MTU"});
  if (room > 40) out.push_back({"TCP MSS (IPv4)", num(room) + " - 40 (IPv4 + TCP headers)", room - 40, ""});
  if (room > 60) out.push_back({"TCP MSS (IPv6)", num(room) + " - 60 (IPv6 + TCP headers)", room - 60, ""});
  const std::size_t wire = wire_size(s, room, mtu);
  out.push_back({"on the wire", "a " + num(room) + "-byte inner packet", wire, num(mtu - wire) + " of " + num(mtu) + " unused"});
  return out;
}

// ---- --diagram: the bytes of each layer for the largest packet ----------------------

struct segment {
  std::size_t offset = 0, length = 0;
  std::string field;            // "esp pad length, next header"
  std::string label;            // what fits in a box: "pl, nh"
  std::size_t layer = 0;        // index into the stack; size() for the inner packet
  bool encrypted = false;       // inside an ESP layer's ciphertext
};

// Precondition: mtu_problem(s, mtu) is empty.
inline std::vector<segment> packet_layout(const stack_spec& s, std::size_t mtu) {
  const std::size_t n = s.rules.size();
  const std::size_t inner = max_inner_size(s, mtu).value_or(0);
  const layer_bytes sizes = bytes_around(s, inner, mtu);
  const std::size_t* trailer = sizes.trailer;
  std::vector<segment> out;
  std::size_t at = 0;
  std::size_t esp_depth = n;  // the outermost ESP layer: what it covers is encrypted
  const auto add = [&](std::size_t len, std::string field, std::string label, std::size_t layer, bool enc) {
    if (len == 0) return;
    out.push_back({at, len, std::move(field), std::move(label), layer, enc});
    at += len;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const layer_rule& r = s.rules[i];
    if (r.inner_header) continue;
    const std::string name = layer_label(s, i);
    if (r.kind == layer_kind::esp) {
      const std::size_t iv = esp_suite::from_code(r.param).iv_size();
      add(8, "esp SPI, sequence number", "SPI, seq", i, false);
      add(iv, "esp IV", "IV", i, false);
      if (esp_depth == n) esp_depth = i;
    } else {
      add(r.header_size, name + " header", name, i, esp_depth < i);
    }
  }
  const std::string inner_field = n && s.rules[n - 1].inner_header ? "inner " + layer_label(s, n - 1) + " packet" : "inner packet";
  add(inner, inner_field, inner_field, n, esp_depth < n);
  for (std::size_t i = n; i-- > 0;) {
    const layer_rule& r = s.rules[i];
    if (r.inner_header || trailer[i] == 0) continue;
    const std::string name = layer_label(s, i);
    if (r.kind == layer_kind::esp) {
      add(trailer[i] - 2 - r.trailer_size, "esp padding", "pad", i, true);
      add(2, "esp pad length, next header", "pl, nh", i, true);
      add(r.trailer_size, "esp ICV", "ICV", i, esp_depth < i);
    } else {
      add(trailer[i], name + " trailer", name + " trailer", i, esp_depth < i);
    }
  }
  return out;
}

inline std::string diagram_text(const stack_spec& s, std::size_t mtu) {
  const auto segs = packet_layout(s, mtu);
  std::string out = "the largest packet, " + std::to_string(segs.empty() ? 0 : segs.back().offset + segs.back().length) +
                    " of " + std::to_string(mtu) + " bytes (" + to_string(s) + ")\n\n";
  char line[160];
  std::snprintf(line, sizeof line, "%7s %7s  %s\n", "offset", "bytes", "field");
  out += line;
  for (const segment& g : segs) {
    if (g.encrypted) std::snprintf(line, sizeof line, "%7zu %7zu  %-34s encrypted\n", g.offset, g.length, g.field.c_str());
    else std::snprintf(line, sizeof line, "%7zu %7zu  %s\n", g.offset, g.length, g.field.c_str());
    out += line;
  }
  // One row of boxes: small fields get their label's width, the inner packet the rest.
  std::string top = "+", mid = "|";
  for (const segment& g : segs) {
    const std::string label = g.layer == s.rules.size() ? "   inner " + std::to_string(g.length) + "   "
                                                        : g.label + " " + std::to_string(g.length);
    top += std::string(label.size() + 2, '-') + "+";
    mid += " " + label + " |";
  }
  return out + "\n" + top + "\n" + mid + "\n" + top + "\n";
}

// The same layout as an SVG (docs/mtu.md's figure is this output).
inline std::string diagram_svg(const stack_spec& s, std::size_t mtu) {
  const auto segs = packet_layout(s, mtu);
  const double width = 960, min_box = 58;
  double fixed = 0;
  for (const segment& g : segs) if (g.layer != s.rules.size()) fixed += min_box;
  const double inner_w = width - 20 - fixed;
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"150\" viewBox=\"0 0 960 150\" "
                    "font-family=\"sans-serif\" font-size=\"11\">\n";
  out += "<text x=\"10\" y=\"18\" font-size=\"13\">" + to_string(s) + ", underlay MTU " + std::to_string(mtu) + ": the largest packet</text>\n";
  double x = 10, enc_from = -1, enc_to = -1;
  char buf[512];
  for (const segment& g : segs) {
    const bool inner = g.layer == s.rules.size();
    const double w = inner ? inner_w : min_box;
    const char* fill = inner ? "#e8f0fe" : g.field.find("esp") == 0 ? "#fde7c8" : "#e6e6e6";
    std::snprintf(buf, sizeof buf,
                  "<rect x=\"%.1f\" y=\"40\" width=\"%.1f\" height=\"44\" fill=\"%s\" stroke=\"#444\"/>\n"
                  "<text x=\"%.1f\" y=\"58\" text-anchor=\"middle\">%s</text>\n"
                  "<text x=\"%.1f\" y=\"75\" text-anchor=\"middle\">%zu</text>\n"
                  "<text x=\"%.1f\" y=\"34\" font-size=\"9\" fill=\"#666\">%zu</text>\n",
                  x, w, fill, x + w / 2, g.label.c_str(), x + w / 2, g.length, x + 1, g.offset);
    out += buf;
    if (g.encrypted) { if (enc_from < 0) enc_from = x; enc_to = x + w; }
    x += w;
  }
  if (enc_from >= 0) {
    std::snprintf(buf, sizeof buf,
                  "<path d=\"M%.1f 92 v6 H%.1f v-6\" fill=\"none\" stroke=\"#b35900\"/>\n"
                  "<text x=\"%.1f\" y=\"112\" text-anchor=\"middle\" fill=\"#b35900\">encrypted (ESP payload, padding, trailer)</text>\n",
                  enc_from, enc_to, (enc_from + enc_to) / 2);
    out += buf;
  }
  const std::size_t total = segs.empty() ? 0 : segs.back().offset + segs.back().length;
  std::snprintf(buf, sizeof buf, "<text x=\"10\" y=\"138\">%zu bytes on the wire, %zu of %zu unused</text>\n</svg>\n", total,
                mtu - total, mtu);
  return out + buf;
}

// ---- JSON ------------------------------------------------------------------------------

// Bumped when a key changes meaning or goes away; new keys do not bump it.
inline constexpr int schema_version = 1;

inline std::string json_strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += json_string(v[i]);
  }
  return out + "]";
}

inline std::string explain_json(const stack_spec& s, std::size_t mtu) {
  std::string out = "[";
  bool first = true;
  for (const explain_step& e : explain(s, mtu)) {
    out += (first ? "" : ",") + std::string("{\"step\":") + json_string(e.what) + ",\"formula\":" + json_string(e.formula) +
           ",\"value\":" + std::to_string(e.value) + ",\"note\":" + json_string(e.note) + "}";
    first = false;
  }
  return out + "]";
}

// A ping that sends an IP packet of n bytes: the payload after the IP and ICMP headers
// (Linux -s, Windows -l, Junos size, FortiOS data-size). Cisco IOS's size is n itself.
inline std::optional<std::size_t> ping_payload(std::size_t n, bool ipv6) {
  const std::size_t headers = ipv6 ? 40 + 8 : 20 + 8;
  if (n < headers) return std::nullopt;
  return n - headers;
}

// What the tunnel's inner packets are, for ping sizes: a trailing ipv6 says IPv6; anything
// else is sized as IPv4 (the smaller headers, so the larger ping).
inline bool inner_is_ipv6(const stack_spec& s) {
  const layer_rule& last = s.rules.back();
  return last.inner_header && last.kind == layer_kind::ipv6;
}

// The report: schema_version, the same keys as ever (esp_plaintext_mtu, max_inner, ...),
// the vendors' labelled figures, warnings, the layers at the largest inner packet, the
// inverse question, the arithmetic and a sweep when asked.
// Precondition: mtu_problem(s, mtu) is empty.
inline std::string figures_json(const stack_spec& s, std::size_t mtu, std::optional<std::size_t> inner_mtu = std::nullopt,
                                std::optional<std::pair<std::size_t, std::size_t>> sweep = std::nullopt,
                                bool with_explain = false) {
  const auto f = figures(s, mtu);
  const auto range = overhead_over(s, 1, f.max_inner.val, mtu);
  const auto esp = esp_figures(s, mtu);
  std::string out = "{\"schema_version\":" + std::to_string(schema_version) + ",\"stack\":" + json_string(to_string(s)) +
                    ",\"mtu\":" + std::to_string(mtu) +
                    ",\"esp_plaintext_mtu\":" + num_or_null(f.esp_plaintext_mtu) + ",\"max_inner\":" +
                    std::to_string(f.max_inner.val) + ",\"tcp_mss_ipv4\":" + num_or_null(f.tcp_mss_ipv4) +
                    ",\"tcp_mss_ipv6\":" + num_or_null(f.tcp_mss_ipv6) + ",\"overhead_at_max\":" +
                    std::to_string(f.overhead_at_max) + ",\"wire_size_at_max\":" + std::to_string(f.wire_size_at_max) +
                    ",\"overhead_min\":" + std::to_string(range.min) + ",\"overhead_max\":" + std::to_string(range.max);
  if (esp.present)
    out += std::string(",\"esp_mode\":") + (esp.mode == esp_mode::tunnel ? "\"tunnel\"" : "\"transport\"") +
           ",\"cisco_plaintext_mtu\":" + num_or_null(esp.vendor) + ",\"linux_xfrm_state_mtu\":" + num_or_null(esp.linux_mtu);
  else
    out += ",\"esp_mode\":null,\"cisco_plaintext_mtu\":null,\"linux_xfrm_state_mtu\":null";
  const bool v6 = inner_is_ipv6(s);
  if (const auto p = ping_payload(f.max_inner.val, v6))
    out += ",\"ping\":{\"family\":" + std::string(v6 ? "\"ipv6\"" : "\"ipv4\"") + ",\"linux_s\":" + std::to_string(*p) +
           ",\"windows_l\":" + std::to_string(*p) + ",\"cisco_size\":" + std::to_string(f.max_inner.val) + "}";
  if (const auto t = iptfs_of(s, mtu); t.present) {
    char cost[160];
    std::snprintf(cost, sizeof cost, "{\"64\":%.2f,\"576\":%.2f,\"1500\":%.2f}", iptfs_cost(t, 64), iptfs_cost(t, 576),
                  iptfs_cost(t, 1500));
    out += ",\"iptfs\":{\"payload_per_outer_packet\":" + std::to_string(t.payload) + ",\"overhead_per_outer_packet\":" +
           std::to_string(t.overhead) + ",\"overhead_per_inner_packet\":" + cost + "}";
  }
  const auto meaning = mtu_meaning(s, mtu);
  out += ",\"mtu_meaning\":" + (meaning ? json_string(*meaning) : std::string("null"));
  out += ",\"warnings\":" + json_strings(limit_warnings(s, mtu));
  if (inner_mtu)
    out += ",\"inner_mtu\":" + std::to_string(*inner_mtu) + ",\"required_mtu\":" + num_or_null(required_mtu(s, *inner_mtu));
  out += ",\"layers\":" + layers_json(s, f.max_inner.val, mtu);
  if (with_explain) out += ",\"explain\":" + explain_json(s, mtu);
  if (sweep) {
    out += ",\"sweep\":[";
    for (std::size_t n = sweep->first; n <= sweep->second; ++n) {
      const std::size_t w = wire_size(s, n, mtu);
      const auto p = ping_payload(n, v6);
      out += (n == sweep->first ? "" : ",") + std::string("{\"inner\":") + std::to_string(n) + ",\"wire\":" +
             std::to_string(w) + ",\"fits\":" + (w <= mtu ? "true" : "false") +
             ",\"ping_s\":" + (p ? std::to_string(*p) : std::string("null")) + "}";
    }
    out += "]";
  }
  return out + "}";
}

// An error as JSON (on stderr in --json mode; the web page's answer).
inline std::string error_json(const std::string& message, std::optional<std::pair<std::size_t, std::size_t>> at = std::nullopt,
                              const std::string& formatted = "") {
  std::string out = "{\"schema_version\":" + std::to_string(schema_version) + ",\"error\":{\"message\":" + json_string(message);
  if (at) out += ",\"offset\":" + std::to_string(at->first) + ",\"length\":" + std::to_string(at->second ? at->second : 1);
  if (!formatted.empty()) out += ",\"formatted\":" + json_string(formatted);
  return out + "}}";
}

}  // namespace encap::report
