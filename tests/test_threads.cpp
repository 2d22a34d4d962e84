// The threading rule (docs/security.md "Threads"): an SA, an endpoint and a backend
// object belong to one thread at a time; different threads may each run their own at
// once. Built with ThreadSanitizer in the tsan preset (ctest -L tsan), this runs the
// pattern a multi-core data plane uses: one SA pair and endpoint per thread, all threads
// at once, both backends (intel-ipsec-mb's job managers are per thread, shared by the
// thread's SAs).
#include <encap/endpoint.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "support/backends.hpp"
#include "support/packets.hpp"

using namespace encap;

namespace {
constexpr auto stack_gcm = ipv4{{192, 0, 2, 1}, {192, 0, 2, 2}} / esp<tunnel, aes256_gcm_16>{} / ipv4{} / gre{};
constexpr auto stack_cbc = ipv4{{192, 0, 2, 1}, {192, 0, 2, 2}} / esp<tunnel, aes256_cbc_hmac_sha1_96>{} / ipv4{} / gre{};

template <class B, class S>
std::size_t worker(const S& st, esp_suite s, unsigned id, int rounds) {
  const test::suite_keys k(s, static_cast<std::uint8_t>(id));
  esp_sa<B> out({.spi = 0x1000 + id, .suite = s, .keys = {k.enc, k.auth}});
  esp_sa<B> in({.spi = 0x1000 + id, .suite = s, .keys = {k.enc, k.auth}});
  endpoint ep(st, {.mtu = 1500}, &out, &in);
  std::vector<std::uint8_t> buf(ep.headroom + 1500 + ep.tailroom);
  std::size_t ok = 0;
  for (int r = 0; r < rounds; ++r) {
    const std::size_t n = 28 + static_cast<std::size_t>(r * 37 + id) % 1300;
    test::write_inner_ipv4(buf.data() + ep.headroom, n);
    frame f(buf, ep.headroom, n);
    if (!ep.encap(f)) continue;
    const auto d = ep.decap(f);
    ok += d.has_value() && f.size() == n;
  }
  return ok;
}
}  // namespace

TEST_SUITE("threads") {
  TEST_CASE_TEMPLATE("one SA pair and endpoint per thread: 4 threads at once, every round trip intact", B, ENCAP_BACKENDS) {
    constexpr unsigned threads = 4;
    constexpr int rounds = 300;
    for (bool cbc : {false, true}) {
      std::atomic<std::size_t> total{0};
      std::vector<std::thread> pool;
      for (unsigned t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
          total += cbc ? worker<B>(stack_cbc, aes256_cbc_hmac_sha1_96::value, t, rounds)
                       : worker<B>(stack_gcm, aes256_gcm_16::value, t, rounds);
        });
      for (auto& th : pool) th.join();
      CHECK(total == threads * rounds);
    }
  }
}
