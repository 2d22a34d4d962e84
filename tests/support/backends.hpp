// Test support: every crypto backend this build has, as a type list. The list is generated
// by tests/CMakeLists.txt from the backends it built (one row each), so a test written
// as TEST_CASE_TEMPLATE(..., B, ENCAP_BACKENDS) runs on each, and adding a backend adds
// no #ifdef here or in a test.
#pragma once

#include <encap/crypto/suites.hpp>

#include <string_view>
#include <tuple>
#include <vector>

#include "encap_test_backends.hpp"

#define ENCAP_BACKENDS ENCAP_TEST_BACKEND_LIST

namespace encap::test {

using backends = std::tuple<ENCAP_TEST_BACKEND_LIST>;

// Calls f.template operator()<B>() for each backend B, in order.
template <class F>
void for_each_backend(F&& f) {
  [&]<class... B>(std::tuple<B...>*) { (f.template operator()<B>(), ...); }(static_cast<backends*>(nullptr));
}

// Calls f.template operator()<B>() for the backend named `name` (B::name); false if none is.
template <class F>
bool with_backend(std::string_view name, F&& f) {
  bool found = false;
  for_each_backend([&]<class B>() {
    if (!found && B::name == name) {
      found = true;
      f.template operator()<B>();
    }
  });
  return found;
}

// Every suite backend B provides.
template <class B>
std::vector<esp_suite> suites_of() {
  std::vector<esp_suite> out;
  for (const auto& s : all_suites)
    if (B::supports(s)) out.push_back(s);
  return out;
}

}  // namespace encap::test
