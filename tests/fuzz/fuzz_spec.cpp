// Fuzz target: the run-time stack spec parser and every calculator over what it accepts.
// Invariants: a parsed spec's canonical spelling parses back to the same rules; the
// largest inner packet fits and one byte more does not.
#include <encap/spec.hpp>

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace encap;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto r = parse_spec(text);
  if (!r) {
    if (r.error().offset > text.size()) std::abort();
    (void)r.error().format(text);
    return 0;
  }
  const auto again = parse_spec(to_string(*r));
  if (!again || again->rules != r->rules) std::abort();
  for (std::size_t mtu : {std::size_t{68}, std::size_t{576}, std::size_t{1500}, std::size_t{9000}, std::size_t{65535}}) {
    const auto m = max_inner_size(*r, mtu);
    if (m && (!fits(*r, m.val, mtu) || fits(*r, m.val + 1, mtu))) std::abort();
    (void)figures(*r, mtu);
    (void)required_mtu(*r, 1280);
  }
  return 0;
}
