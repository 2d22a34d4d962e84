// web/calc.cpp — the calculator of tunnel-mtu, for the web page: compiled by Emscripten
// from the library's own headers and the CLI's report code, so the page and the CLI give
// the same figures. One entry point: a spec, an MTU and the optional questions in, one
// JSON object out (tunnel-mtu --json's keys, or "error").
#include <emscripten.h>

#include <string>

#include "../examples/tunnel_mtu_report.hpp"

using namespace encap;

extern "C" {

// inner_mtu 0: not asked; sweep_hi 0: no sweep. The returned text lives until the next call.
EMSCRIPTEN_KEEPALIVE const char* encap_calc(const char* spec, unsigned mtu, unsigned inner_mtu, unsigned sweep_lo,
                                            unsigned sweep_hi) {
  static std::string out;
  const std::string text = spec ? spec : "";
  const auto parsed = parse_spec(text);
  if (!parsed) {
    const spec_error& e = parsed.error();
    out = report::error_json(e.message, std::pair{e.offset, e.length}, e.format(text));
    return out.c_str();
  }
  const stack_spec& s = *parsed;
  if (mtu == 0) {  // the CLI's limits
    out = report::error_json("the MTU is a size in bytes");
    return out.c_str();
  }
  if (const auto problem = report::mtu_problem(s, mtu)) {
    out = report::error_json(*problem);
    return out.c_str();
  }
  std::optional<std::size_t> inner;
  if (inner_mtu) inner = inner_mtu;
  std::optional<std::pair<std::size_t, std::size_t>> sweep;
  if (sweep_hi && sweep_lo <= sweep_hi && sweep_hi <= 65535 && sweep_hi - sweep_lo <= 4096) sweep.emplace(sweep_lo, sweep_hi);
  out = report::figures_json(s, mtu, inner, sweep);
  return out.c_str();
}

// Every suite's spec name (encap's suite table), for the page's suggestions.
EMSCRIPTEN_KEEPALIVE const char* encap_suites() {
  static std::string out;
  if (out.empty()) {
    out = "[";
    for (const esp_suite& s : all_suites) out += (out.size() > 1 ? "," : "") + report::json_string(to_string(s));
    out += "]";
  }
  return out.c_str();
}

}  // extern "C"
