// tunnel-mtu — exact tunnel MTU, TCP MSS and overhead for a stack of layers.
//
//   tunnel-mtu --mtu 1500 'ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre'
//   tunnel-mtu --mtu 1500 'ipv4/esp(esp-aes 256 esp-sha-hmac)/ipv4/gre'   (Cisco's, strongSwan's and xfrm's names too)
//   tunnel-mtu --mtu 1500 --explain 'ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre'
//   tunnel-mtu --mtu 1500 --emit cisco 'ipv4/esp(aes256gcm16)/ipv4/gre'
//   tunnel-mtu --mtu 1500 --diagram 'ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre'
//   tunnel-mtu --mtu 1500 --sweep 1400..1420 'ipv4/esp(aes-256-gcm-16)/ipv4/gre'
//   tunnel-mtu --mtu 1500 --table 'ipv4/esp(aes-256-gcm-16)/ipv4/gre'
//   tunnel-mtu --json --mtu 1500 'ipv6/udp(4500)/esp(aes-128-gcm-16)/ipv4'
//   tunnel-mtu --inner-mtu 1500 'ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre'
//
// Exit status: 0 on success, 2 on bad input (message on stderr; JSON there with --json).
#include <encap/encap.hpp>

#include "tunnel_mtu_emit.hpp"
#include "tunnel_mtu_report.hpp"

#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace encap;
namespace rep = ::encap::report;

constexpr const char* usage =
    "usage: tunnel-mtu [--mtu N] [--inner-mtu N] [--sweep A..B] [--explain] [--json] SPEC\n"
    "       tunnel-mtu [--mtu N] --table [--json] SPEC\n"
    "       tunnel-mtu [--mtu N] --emit PLATFORM [--interface NAME] [--peer ADDR] SPEC\n"
    "       tunnel-mtu [--mtu N] --diagram[=svg] SPEC\n"
    "  SPEC       layers outermost first, e.g. 'ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre';\n"
    "             ESP suites as encap, strongSwan, Cisco IOS or ip xfrm name them\n"
    "  --mtu N    underlay (path) MTU in bytes, default 1500; when SPEC starts below IP\n"
    "             (eth, pppoe, mpls) it is that frame's size, its headers included\n"
    "  --inner-mtu N  also report the smallest underlay MTU that carries inner packets of N bytes\n"
    "  --sweep A..B   for each inner size A..B: bytes on the wire, whether it fits, the ping size\n"
    "  --explain  the arithmetic layer by layer\n"
    "  --table    every ESP suite side by side for the same stack shape\n"
    "  --emit P   paste-ready tunnel MTU and MSS lines, and the probe that verifies them;\n"
    "             P is one of: cisco, linux, nft, iptables, wg, juniper, fortios, windows\n"
    "  --diagram  the bytes of each layer in the largest packet (--diagram=svg: as SVG)\n"
    "  --json     one JSON object (schema_version 1) instead of the report; errors as JSON on stderr\n";

bool json_errors = false;

int fail(const std::string& msg, std::optional<std::pair<std::size_t, std::size_t>> at = std::nullopt,
         const std::string& formatted = "") {
  if (json_errors) std::fprintf(stderr, "%s\n", rep::error_json(msg, at, formatted).c_str());
  else std::fprintf(stderr, "tunnel-mtu: %s\n", (formatted.empty() ? msg : msg + "\n" + formatted).c_str());
  return 2;
}

std::optional<std::size_t> number(std::string_view v) {
  std::size_t n = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
  if (r.ec != std::errc{} || r.ptr != v.data() + v.size()) return std::nullopt;
  return n;
}

using rep::num_or_null;

void print_layers(const stack_spec& s) {
  std::printf("  %-44s %6s %7s %5s\n", "layer", "header", "trailer", "align");
  for (std::size_t i = 0; i < s.rules.size(); ++i) {
    const auto& r = s.rules[i];
    std::string trailer = r.trailer_size ? std::to_string(r.trailer_size) : "-";
    if (r.kind == layer_kind::esp) trailer = "2+pad+" + std::to_string(r.trailer_size);
    if (r.inner_header) {
      std::printf("  %-44s %6s %7s %5s   the inner packet's own header\n", to_string(r, s.modes[i]).c_str(), "-", "-", "-");
      continue;
    }
    std::printf("  %-44s %6zu %7s %5s\n", to_string(r, s.modes[i]).c_str(), r.header_size, trailer.c_str(),
                r.align > 1 ? std::to_string(r.align).c_str() : "-");
  }
}

void print_explain(const stack_spec& s, std::size_t mtu) {
  std::printf("\nthe arithmetic, outermost layer first:\n");
  for (const auto& e : rep::explain(s, mtu)) {
    char line[256];
    std::snprintf(line, sizeof line, "  %-22s %-50s %s %5zu  %s", e.what.c_str(), e.formula.c_str(), e.formula.empty() ? " " : "=",
                  e.value, e.note.c_str());
    std::string text = line;
    while (!text.empty() && text.back() == ' ') text.pop_back();
    std::printf("%s\n", text.c_str());
  }
}

// The tunnel MTU and what follows from it (every stack but IP-TFS's).
int print_tunnel_mtu(const stack_spec& s, const tunnel_figures& f, std::size_t mtu, std::optional<std::size_t> inner_mtu) {
  std::printf("max inner packet    %5zu   tunnel MTU: largest inner packet that is not fragmented\n", f.max_inner.val);
  std::printf("TCP MSS, IPv4       %5s   (inner MTU - 40)\n", num_or_null(f.tcp_mss_ipv4).c_str());
  std::printf("TCP MSS, IPv6       %5s   (inner MTU - 60)\n", num_or_null(f.tcp_mss_ipv6).c_str());
  std::printf("overhead at max     %5zu   bytes; wire size %zu (%zu of %zu unused)\n", f.overhead_at_max,
              f.wire_size_at_max, mtu - f.wire_size_at_max, mtu);
  const auto range = overhead_over(s, 1, f.max_inner.val, mtu);
  std::printf("overhead range      %zu..%zu bytes over inner sizes 1..%zu\n", range.min, range.max, f.max_inner.val);
  const bool v6 = rep::inner_is_ipv6(s);
  if (const auto p = rep::ping_payload(f.max_inner.val, v6))
    std::printf("verify with         ping %s-M do -s %zu (Linux), ping -f -l %zu (Windows), ping ... size %zu df-bit (Cisco)\n",
                v6 ? "-6 " : "", *p, *p, f.max_inner.val);
  if (inner_mtu) {
    const auto need = required_mtu(s, *inner_mtu);
    if (!need) return fail("--inner-mtu: " + std::string(to_string(need.err)));
    std::printf("underlay MTU needed %5zu   to carry %zu-byte inner packets\n", need.val, *inner_mtu);
  }
  return 0;
}

int print_report(const stack_spec& s, std::size_t mtu, std::optional<std::size_t> inner_mtu, bool with_explain) {
  const auto f = figures(s, mtu);
  std::printf("stack         %s\nunderlay MTU  %zu\n", to_string(s).c_str(), mtu);
  if (const auto m = rep::mtu_meaning(s, mtu)) std::printf("              (%s)\n", m->c_str());
  std::printf("\n");
  print_layers(s);
  std::printf("\n");
  if (const auto e = rep::esp_figures(s, mtu); e.present && e.plaintext) {
    std::printf("ESP plaintext MTU   %5zu   largest ESP payload (RFC 4303 Payload Data), %s mode\n", e.plaintext.val,
                e.mode == esp_mode::tunnel ? "tunnel" : "transport");
    const char* same = e.kept_header ? "" : " = ESP plaintext MTU in tunnel mode";
    if (e.vendor) std::printf("Cisco plaintext mtu %5zu   'show crypto ipsec sa'%s\n", e.vendor.val, same);
    if (e.linux_mtu && e.linux_mtu.val != e.vendor.val)
      std::printf("Linux xfrm_state_mtu%5zu   net/xfrm/xfrm_state.c; ESP in TCP: the kernel leaves the TCP header out\n", e.linux_mtu.val);
    else if (e.linux_mtu)
      std::printf("Linux xfrm_state_mtu%5zu   net/xfrm/xfrm_state.c%s\n", e.linux_mtu.val, same);
    if (e.kept_header)
      std::printf("                            transport mode: Cisco and Linux count the %zu-byte IP header kept in front of ESP\n",
                  e.kept_header);
  }
  if (const auto t = rep::iptfs_of(s, mtu); t.present) {
    // RFC 9347: inner packets are packed and split; the underlay gives a payload per outer packet
    std::printf("IP-TFS payload      %5zu   inner-packet bytes in each %zu-byte outer packet; no inner packet is too big\n",
                t.payload, mtu);
    std::printf("overhead per inner  %.1f, %.1f, %.1f bytes for 64, 576, 1500-byte packets (%zu per outer packet, shared)\n",
                rep::iptfs_cost(t, 64), rep::iptfs_cost(t, 576), rep::iptfs_cost(t, 1500), t.overhead);
  } else if (const int rc = print_tunnel_mtu(s, f, mtu, inner_mtu); rc != 0) {
    return rc;
  }
  for (const auto& w : rep::limit_warnings(s, mtu)) std::printf("warning: %s\n", w.c_str());
  if (with_explain) print_explain(s, mtu);
  return 0;
}

void sweep_table(const stack_spec& s, std::size_t mtu, std::size_t a, std::size_t b) {
  const bool v6 = rep::inner_is_ipv6(s);
  std::printf("\n%7s %7s %8s %8s  fits %zu?\n", "inner", "wire", "overhead", v6 ? "ping6 -s" : "ping -s", mtu);
  for (std::size_t n = a; n <= b; ++n) {
    const std::size_t w = wire_size(s, n, mtu);
    const auto p = rep::ping_payload(n, v6);
    std::printf("%7zu %7zu %8zu %8s  %s\n", n, w, w - n, p ? std::to_string(*p).c_str() : "-",
                w <= mtu ? "yes" : "no  (DF: frag needed)");
  }
}

// The alternatives --table sets side by side: every ESP suite, else every AH integrity
// algorithm, else every OpenVPN data-channel cipher, each in the stack's context.
struct variant { std::string name; layer_rule rule; bool legacy = false; };

std::vector<variant> variants_of(const stack_spec& s, std::size_t& at) {
  std::vector<variant> out;
  const auto place = [&](layer_rule r) { return at > 0 ? in_context(r, s.rules[at - 1].kind) : r; };
  if ((at = find_layer(s.rules, layer_kind::esp)) < s.rules.size()) {
    const layer_rule& esp = s.rules[at];
    const esp_padding pad{esp.extra_padding, esp.pad_to};
    for (const esp_suite& suite : all_suites)
      if (check_padding(suite, pad) == padding_error::ok) out.push_back({to_string(suite), place(esp_rule(suite, pad)), suite.legacy()});
  } else if ((at = find_layer(s.rules, layer_kind::ah)) < s.rules.size()) {
    for (const auto& i : integrities)
      if (!i.name.empty() && i.id != integ_id::none) out.push_back({std::string(i.name), place(ah_rule(i.id)), i.legacy});
    for (const std::size_t bits : {128u, 192u, 256u}) out.push_back({"aes-gmac-" + std::to_string(bits), place(ah_gmac_rule(bits))});
  } else if ((at = find_layer(s.rules, layer_kind::openvpn)) < s.rules.size()) {
    const std::uint16_t flags = s.rules[at].param & (openvpn_comp_flag | openvpn_v1_flag);
    for (std::size_t c = 0; c < openvpn_ciphers.size(); ++c)
      for (std::size_t h = 0; h < (openvpn_ciphers[c].aead ? 1 : openvpn_auths.size()); ++h) {
        const layer_rule r = place(openvpn_rule(c, h, flags & openvpn_comp_flag, flags & openvpn_v1_flag));
        std::string name(openvpn_ciphers[c].name);
        if (!openvpn_ciphers[c].aead) name += "," + std::string(openvpn_auths[h].name);
        out.push_back({name, r, openvpn_ciphers[c].name == "bf-cbc"});
      }
  }
  return out;
}

int table(const stack_spec& s, std::size_t mtu, bool json) {
  std::size_t at = 0;
  const auto rows_of = variants_of(s, at);
  if (rows_of.empty()) return fail("--table needs a stack with an ESP, AH or OpenVPN layer");
  std::string rows;
  if (!json) {
    std::printf("stack %s, underlay MTU %zu\n\n", to_string(s).c_str(), mtu);
    std::printf("%-36s %9s %9s %7s %7s %8s %8s\n", s.rules[at].kind == layer_kind::esp ? "suite" : "algorithm", "plaintext",
                "max inner", "MSS v4", "MSS v6", "ovh@max", "ovh min..max");
  }
  for (const variant& v : rows_of) {
    stack_spec t = s;
    t.rules[at] = v.rule;
    const auto f = figures(t, mtu);
    const auto range = f.max_inner ? overhead_over(t, 1, f.max_inner.val, mtu) : overhead_range{};
    if (json) {
      const auto e = rep::esp_figures(t, mtu);
      rows += (rows.empty() ? "" : ",") + std::string("{\"suite\":") + rep::json_string(v.name) +
              ",\"legacy\":" + (v.legacy ? "true" : "false") + ",\"esp_plaintext_mtu\":" + num_or_null(f.esp_plaintext_mtu) +
              ",\"cisco_plaintext_mtu\":" + num_or_null(e.vendor) + ",\"linux_xfrm_state_mtu\":" + num_or_null(e.linux_mtu) +
              ",\"max_inner\":" + num_or_null(f.max_inner) + ",\"tcp_mss_ipv4\":" + num_or_null(f.tcp_mss_ipv4) +
              ",\"tcp_mss_ipv6\":" + num_or_null(f.tcp_mss_ipv6) + ",\"overhead_at_max\":" +
              (f.max_inner ? std::to_string(f.overhead_at_max) : "null") + ",\"overhead_min\":" +
              (f.max_inner ? std::to_string(range.min) : "null") + ",\"overhead_max\":" +
              (f.max_inner ? std::to_string(range.max) : "null") + "}";
      continue;
    }
    if (!f.max_inner) {
      std::printf("%-36s %9s\n", v.name.c_str(), "too small");
      continue;
    }
    std::printf("%-36s %9s %9zu %7s %7s %8zu %5zu..%zu%s\n", v.name.c_str(),
                f.esp_plaintext_mtu ? std::to_string(f.esp_plaintext_mtu.val).c_str() : "-",
                f.max_inner.val, num_or_null(f.tcp_mss_ipv4).c_str(), num_or_null(f.tcp_mss_ipv6).c_str(),
                f.overhead_at_max, range.min, range.max, v.legacy ? "  (legacy)" : "");
  }
  if (json)
    std::printf("{\"schema_version\":%d,\"stack\":%s,\"mtu\":%zu,\"suites\":[%s]}\n", rep::schema_version,
                rep::json_string(to_string(s)).c_str(), mtu, rows.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<std::size_t> mtu_opt, inner_mtu;
  std::optional<std::pair<std::size_t, std::size_t>> sweep;
  std::optional<std::string> emit_platform, diagram, interface, peer;
  bool want_json = false, want_table = false, want_explain = false;
  std::string spec_text;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  for (const auto a : args) if (a == "--json") json_errors = true;  // errors before --json is read come as JSON too
  std::vector<std::string> seen;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    std::optional<std::string_view> inline_value;
    if (a.starts_with("--") && a.find('=') != std::string_view::npos) {
      inline_value = a.substr(a.find('=') + 1);
      a = a.substr(0, a.find('='));
    }
    auto value = [&]() -> std::optional<std::string_view> {
      if (inline_value) return inline_value;
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (a == "-h" || a == "--help") { std::fputs(usage, stdout); return 0; }
    if (a.starts_with("-")) {
      const std::string name(a);
      for (const auto& s : seen)
        if (s == name) return fail("option " + name + " given twice");
      seen.push_back(name);
    }
    if (a == "--json") { want_json = true; continue; }
    if (a == "--table") { want_table = true; continue; }
    if (a == "--explain") { want_explain = true; continue; }
    if (a == "--diagram") {
      const std::string form(inline_value.value_or("text"));
      if (form != "text" && form != "svg") return fail("--diagram takes no value or =svg, got '" + form + "'");
      diagram = form;
      continue;
    }
    if (a == "--mtu" || a == "--inner-mtu") {
      const auto v = value();
      const std::size_t n = v ? number(*v).value_or(0) : 0;
      if (n == 0 || n > rep::max_mtu)
        return fail(std::string(a) + " needs a size in bytes, got '" + std::string(v.value_or("")) + "'");
      if (a == "--mtu") mtu_opt = n; else inner_mtu = n;
      continue;
    }
    if (a == "--emit" || a == "--interface" || a == "--peer") {
      const auto v = value();
      if (!v || v->empty() || v->starts_with("-")) return fail(std::string(a) + " needs a value");
      (a == "--emit" ? emit_platform : a == "--interface" ? interface : peer) = std::string(*v);
      continue;
    }
    if (a == "--sweep") {
      const auto v = value().value_or("");
      const auto dots = v.find("..");
      const auto lo = dots == std::string_view::npos ? std::nullopt : number(v.substr(0, dots));
      const auto hi = dots == std::string_view::npos ? std::nullopt : number(v.substr(dots + 2));
      if (!lo || !hi || *lo > *hi || *hi > 65535 || *lo == 0) return fail("--sweep needs A..B with 1 <= A <= B <= 65535, got '" + std::string(v) + "'");
      sweep.emplace(*lo, *hi);
      continue;
    }
    if (a.starts_with("-")) return fail("unknown option '" + std::string(a) + "'\n" + usage);
    if (!spec_text.empty()) return fail("one SPEC only; quote it if it contains spaces or parentheses");
    spec_text = a;
  }
  if (spec_text.empty()) return fail(std::string("missing SPEC\n") + usage);

  // One question per run: options that belong to another mode are an error, not ignored.
  const char* mode = want_table ? "--table" : emit_platform ? "--emit" : diagram ? "--diagram" : nullptr;
  const int modes = int(want_table) + int(bool(emit_platform)) + int(bool(diagram));
  if (modes > 1) return fail("--table, --emit and --diagram each answer a different question: give one");
  if (mode && sweep) return fail(std::string("--sweep belongs to the report, not ") + mode);
  if (mode && inner_mtu) return fail(std::string("--inner-mtu belongs to the report, not ") + mode);
  if (mode && want_explain) return fail(std::string("--explain belongs to the report, not ") + mode);
  if (want_json && (emit_platform || diagram))
    return fail(std::string(mode) + " prints text; its figures are in the --json report (layers, ping, explain)");
  if ((interface || peer) && !emit_platform) return fail("--interface and --peer go with --emit");

  const auto parsed = parse_spec(spec_text);
  if (!parsed) {
    const auto& e = parsed.error();
    return fail(json_errors ? e.message : std::string("bad stack spec"), std::pair{e.offset, e.length}, e.format(spec_text));
  }
  const stack_spec& s = *parsed;
  const std::size_t mtu = mtu_opt.value_or(1500);

  if (const auto problem = rep::mtu_problem(s, mtu)) {
    if (!want_table || mtu > rep::largest_mtu(s)) return fail(*problem);
  }
  if (want_table) return table(s, mtu, want_json);
  if (emit_platform) {
    std::string error;
    const auto text = rep::emit(*emit_platform, s, mtu, {interface.value_or(""), peer.value_or("")}, error);
    if (!text) return fail(error);
    std::fputs(text->c_str(), stdout);
    return 0;
  }
  if (diagram) {
    std::fputs((*diagram == "svg" ? rep::diagram_svg(s, mtu) : rep::diagram_text(s, mtu)).c_str(), stdout);
    return 0;
  }
  if (want_json) {
    if (inner_mtu && !required_mtu(s, *inner_mtu)) return fail("--inner-mtu: " + std::string(to_string(required_mtu(s, *inner_mtu).err)));
    std::printf("%s\n", rep::figures_json(s, mtu, inner_mtu, sweep, want_explain).c_str());  // the web page's figures too
    return 0;
  }
  const int rc = print_report(s, mtu, inner_mtu, want_explain);
  if (rc == 0 && sweep) sweep_table(s, mtu, sweep->first, sweep->second);
  return rc;
}
