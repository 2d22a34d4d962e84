// Every suite each backend supports through the run-time endpoint, against the typed one,
// packet for packet (tests/support/twins.hpp): the reference tunnel (GRE over IPsec,
// tunnel mode) and NAT-T over IPv6 in transport mode with a keyed, sequenced GRE.
#include <encap/crypto/botan.hpp>

#include <doctest/doctest.h>

#include "support/backends.hpp"
#include "support/twins.hpp"

using namespace encap;
using namespace encap::test;

namespace {

template <class B, class S>
void run_suite() {
  constexpr esp_suite s = S::value;
  if (!B::supports(s)) return;
  const std::string name(to_string(s));
  INFO(name);
  // the reference tunnel: GRE over IPsec, tunnel mode
  run_shape<B>(outer4 / esp<tunnel, S>{} / delivery4 / gre{},
               std::string(outer4_spec) + "/esp(" + name + ",tunnel)/" + delivery4_spec + "/gre", &s);
  // NAT-T over IPv6, transport mode, GRE with key and sequence number
  run_shape<B>(outer6 / udp{} / esp<transport, S>{} / gre<gre_opt::key | gre_opt::seq>{7},
               std::string(outer6_spec) + "/udp(4500)/esp(" + name + ",transport)/gre(key=7,seq)", &s);
}

template <class B, std::size_t... I>
void run_all_suites(std::index_sequence<I...>) {
  (run_suite<B, suite<all_suites[I].cipher, all_suites[I].integ>>(), ...);
}

}  // namespace

TEST_SUITE("runtime_endpoint") {
  TEST_CASE_TEMPLATE("every suite: the same bytes and errors as the typed endpoint (reference tunnel; IPv6 NAT-T transport)", B,
                     ENCAP_BACKENDS) {
    run_all_suites<B>(std::make_index_sequence<suite_count>{});
  }
}
