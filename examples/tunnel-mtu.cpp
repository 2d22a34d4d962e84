// tunnel-mtu — exact tunnel MTU, TCP MSS and overhead for a stack of layers.
//
//   tunnel-mtu --mtu 1500 'ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre'
//   tunnel-mtu --mtu 1500 --sweep 1400..1420 'ipv4/esp(aes-256-gcm-16)/ipv4/gre'
//   tunnel-mtu --mtu 1500 --table 'ipv4/esp(aes-256-gcm-16)/ipv4/gre'
//   tunnel-mtu --json --mtu 1500 'ipv6/udp/esp(aes-128-gcm-16)/ipv4'
//   tunnel-mtu --inner-mtu 1500 'ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre'
//
// Exit status: 0 on success, 2 on bad input (message on stderr).
#include <encap/encap.hpp>

#include "tunnel_mtu_report.hpp"

#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace encap;

constexpr const char* usage =
    "usage: tunnel-mtu [--mtu N] [--inner-mtu N] [--sweep A..B] [--table] [--json] SPEC\n"
    "  SPEC       layers outermost first, e.g. 'ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre'\n"
    "  --mtu N    underlay (path) MTU in bytes, default 1500\n"
    "  --inner-mtu N  also report the smallest underlay MTU that carries inner packets of N bytes\n"
    "  --sweep A..B   for each inner size A..B: bytes on the wire and whether it fits\n"
    "  --table    every ESP suite side by side for the same stack shape\n"
    "  --json     one JSON object instead of the report\n";

int fail(const std::string& msg) {
  std::fprintf(stderr, "tunnel-mtu: %s\n", msg.c_str());
  return 2;
}

std::optional<std::size_t> number(std::string_view v) {
  std::size_t n = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
  if (r.ec != std::errc{} || r.ptr != v.data() + v.size()) return std::nullopt;
  return n;
}

using ::encap::report::num_or_null;

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

int print_report(const stack_spec& s, std::size_t mtu, std::optional<std::size_t> inner_mtu) {
  const auto f = figures(s, mtu);
  std::printf("stack         %s\nunderlay MTU  %zu\n\n", to_string(s).c_str(), mtu);
  print_layers(s);
  std::printf("\n");
  if (f.esp_plaintext_mtu) std::printf("ESP plaintext MTU   %5zu   (Cisco 'plaintext mtu', Linux xfrm_state_mtu)\n", f.esp_plaintext_mtu.val);
  std::printf("max inner packet    %5zu   tunnel MTU: largest inner packet that is not fragmented\n", f.max_inner.val);
  std::printf("TCP MSS, IPv4       %5s   (inner MTU - 40)\n", num_or_null(f.tcp_mss_ipv4).c_str());
  std::printf("TCP MSS, IPv6       %5s   (inner MTU - 60)\n", num_or_null(f.tcp_mss_ipv6).c_str());
  std::printf("overhead at max     %5zu   bytes; wire size %zu (%zu of %zu unused)\n", f.overhead_at_max,
              f.wire_size_at_max, mtu - f.wire_size_at_max, mtu);
  const auto range = overhead_over(s, 1, f.max_inner.val, mtu);
  std::printf("overhead range      %zu..%zu bytes over inner sizes 1..%zu\n", range.min, range.max, f.max_inner.val);
  if (inner_mtu) {
    const auto need = required_mtu(s, *inner_mtu);
    if (!need) return fail("--inner-mtu: " + std::string(to_string(need.err)));
    std::printf("underlay MTU needed %5zu   to carry %zu-byte inner packets\n", need.val, *inner_mtu);
  }
  return 0;
}

int json(const stack_spec& s, std::size_t mtu, std::optional<std::size_t> inner_mtu,
         std::optional<std::pair<std::size_t, std::size_t>> sweep) {
  std::printf("%s\n", ::encap::report::figures_json(s, mtu, inner_mtu, sweep).c_str());  // the web page's figures too
  return 0;
}

void sweep_table(const stack_spec& s, std::size_t mtu, std::size_t a, std::size_t b) {
  std::printf("\n%7s %7s %8s  fits %zu?\n", "inner", "wire", "overhead", mtu);
  for (std::size_t n = a; n <= b; ++n) {
    const std::size_t w = wire_size(s, n, mtu);
    std::printf("%7zu %7zu %8zu  %s\n", n, w, w - n, w <= mtu ? "yes" : "no  (DF: frag needed)");
  }
}

int table(const stack_spec& s, std::size_t mtu) {
  const std::size_t esp_at = find_layer(s.rules, layer_kind::esp);
  if (esp_at == s.rules.size()) return fail("--table needs a stack with an ESP layer");
  const layer_rule& esp = s.rules[esp_at];
  std::printf("stack %s, underlay MTU %zu\n\n", to_string(s).c_str(), mtu);
  std::printf("%-36s %9s %9s %7s %7s %8s %8s\n", "suite", "plaintext", "max inner", "MSS v4", "MSS v6", "ovh@max", "ovh min..max");
  for (const esp_suite& suite : all_suites) {
    const esp_padding pad{esp.extra_padding, esp.pad_to};
    if (check_padding(suite, pad) != padding_error::ok) continue;
    stack_spec t = s;
    t.rules[esp_at] = esp_rule(suite, pad);
    const auto f = figures(t, mtu);
    if (!f.max_inner) {
      std::printf("%-36s %9s\n", to_string(suite).c_str(), "too small");
      continue;
    }
    const auto range = overhead_over(t, 1, f.max_inner.val, mtu);
    std::printf("%-36s %9zu %9zu %7s %7s %8zu %5zu..%zu%s\n", to_string(suite).c_str(), f.esp_plaintext_mtu.val,
                f.max_inner.val, num_or_null(f.tcp_mss_ipv4).c_str(), num_or_null(f.tcp_mss_ipv6).c_str(),
                f.overhead_at_max, range.min, range.max, suite.legacy() ? "  (legacy)" : "");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t mtu = 1500;
  std::optional<std::size_t> inner_mtu;
  std::optional<std::pair<std::size_t, std::size_t>> sweep;
  bool want_json = false, want_table = false;
  std::string spec_text;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (a == "-h" || a == "--help") { std::fputs(usage, stdout); return 0; }
    if (a == "--json") { want_json = true; continue; }
    if (a == "--table") { want_table = true; continue; }
    if (a == "--mtu" || a == "--inner-mtu") {
      const auto v = value();
      const std::size_t n = v ? number(*v).value_or(0) : 0;
      if (n == 0 || n > ::encap::report::max_mtu)
        return fail(std::string(a) + " needs a size in bytes (1..65549), got '" + std::string(v.value_or("")) + "'");
      if (a == "--mtu") mtu = n; else inner_mtu = n;
      continue;
    }
    if (a == "--sweep") {
      const auto v = value().value_or("");
      const auto dots = v.find("..");
      const auto lo = dots == std::string_view::npos ? std::nullopt : number(v.substr(0, dots));
      const auto hi = dots == std::string_view::npos ? std::nullopt : number(v.substr(dots + 2));
      if (!lo || !hi || *lo > *hi || *hi > 65535) return fail("--sweep needs A..B with A <= B <= 65535, got '" + std::string(v) + "'");
      sweep.emplace(*lo, *hi);
      continue;
    }
    if (a.starts_with("-")) return fail("unknown option '" + std::string(a) + "'\n" + usage);
    if (!spec_text.empty()) return fail("one SPEC only; quote it if it contains spaces or parentheses");
    spec_text = a;
  }
  if (spec_text.empty()) return fail(std::string("missing SPEC\n") + usage);

  const auto parsed = parse_spec(spec_text);
  if (!parsed) return fail("bad stack spec\n" + parsed.error().format(spec_text));
  const stack_spec& s = *parsed;

  if (want_table) return table(s, mtu);
  if (const auto problem = ::encap::report::mtu_problem(s, mtu)) return fail(*problem);
  if (want_json) return json(s, mtu, inner_mtu, sweep);
  const int rc = print_report(s, mtu, inner_mtu);
  if (rc == 0 && sweep) sweep_table(s, mtu, sweep->first, sweep->second);
  return rc;
}
