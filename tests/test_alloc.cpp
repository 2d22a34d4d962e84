// No heap allocation per packet, with every backend: counted at operator new and, outside
// sanitizers, at malloc/calloc/realloc too (Botan's secure_vector calls calloc directly,
// which an operator new counter never sees). Typed esp_sa and endpoint, bursts, the
// run-time endpoint with 1,000 SAs in its table, and forged packets.
#include <encap/endpoint.hpp>
#include <encap/esp_sa.hpp>
#include <encap/runtime_endpoint.hpp>
#include <encap/sa_config.hpp>
#include <encap/sa_table.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/backends.hpp"
#include "support/packets.hpp"

#include "support/counting_new.hpp"  // every allocation in this binary is counted

#if defined(__GLIBC__)
#include <dlfcn.h>

#include <cstring>

// Every C++ exception thrown in this binary is counted: libstdc++ allocates each with
// __cxa_allocate_exception, which this definition interposes before handing over.
namespace encap::test {
inline std::atomic<long> throws{0};
}
extern "C" void* __cxa_allocate_exception(std::size_t n) noexcept {
  encap::test::throws.fetch_add(1, std::memory_order_relaxed);
  static void* (*real)(std::size_t) = [] {
    void* (*f)(std::size_t) = nullptr;
    void* sym = dlsym(RTLD_NEXT, "__cxa_allocate_exception");
    std::memcpy(&f, &sym, sizeof f);
    return f;
  }();
  return real(n);
}
#define ENCAP_TEST_COUNTS_THROWS 1
#endif

using encap::test::allocations_so_far;

namespace {
long throws_so_far() {
#ifdef ENCAP_TEST_COUNTS_THROWS
  return encap::test::throws.load();
#else
  return 0;
#endif
}
}  // namespace

using namespace encap;

namespace {

void* volatile sink = nullptr;  // an allocation whose pointer escapes here is not elided

esp_sa_config cfg(const esp_suite& s, const test::suite_keys& k, std::uint32_t spi = 0x1001, bool esn = false) {
  return {.spi = spi, .suite = s, .keys = {k.enc, k.auth}, .esn = esn, .allow_legacy = true};
}

}  // namespace

TEST_SUITE("alloc") {
  TEST_CASE("the counters see what they count: operator new, and calloc where malloc is counted") {
    const long before = allocations_so_far();
    auto* p = new int(1);
    sink = p;
    CHECK(allocations_so_far() - before == 1 + (test::malloc_counted ? 1 : 0));  // new, and the malloc under it
    delete p;
    void* q = std::calloc(1, 16);  // what Botan's secure_vector does
    sink = q;
    CHECK(allocations_so_far() - before == (test::malloc_counted ? 3 : 1));
    std::free(q);
#ifdef ENCAP_TEST_COUNTS_THROWS
    const long thrown = throws_so_far();
    try {
      throw std::runtime_error("counted");
    } catch (const std::exception&) {
    }
    CHECK(throws_so_far() - thrown == 1);
#endif
    const std::string counted = test::malloc_counted ? "on" : "off (sanitizer build: operator new only)";
    MESSAGE("malloc-level counting: " << counted);
  }

  TEST_CASE_TEMPLATE("no heap allocation per packet: 10,000 encap/decap round trips per suite", B, ENCAP_BACKENDS) {
    for (const esp_suite& s : test::suites_of<B>()) {
      CAPTURE(to_string(s));
      const test::suite_keys k(s);
      esp_sa<B> out(cfg(s, k, 7, true)), in(cfg(s, k, 7, true));
      std::vector<std::uint8_t> buf(64 + 1400 + 300);
      {  // the first packet may size Botan's reused buffers
        frame f(buf, 64, 1000);
        test::write_inner_ipv4(f.begin(), 1000);
        REQUIRE(out.encap(f, ip_proto::ipv4));
        REQUIRE(in.decap(f));
      }
      const long before = allocations_so_far();
      bool ok = true;
      for (int i = 0; i < 10000; ++i) {
        const std::size_t n = 28 + static_cast<std::size_t>(i * 37) % 1372;
        frame f(buf, 64, n);
        store_be16(f.begin() + 2, static_cast<std::uint16_t>(n));
        ok &= out.encap(f, ip_proto::ipv4).has_value();
        ok &= in.decap(f).has_value();
      }
      CHECK(ok);
      CHECK(allocations_so_far() - before == 0);
    }
  }

  TEST_CASE_TEMPLATE("no heap allocation in bursts: 1,000 rounds of 40-packet encap_burst and decap_burst", B, ENCAP_BACKENDS) {
    // 40 packets: one full 32-packet round of the backend and a partial one
    constexpr auto stack = ipv4{{10, 0, 0, 1}, {10, 0, 0, 2}} / esp<tunnel, aes256_cbc_hmac_sha1_96>{} / ipv4{} / gre{};
    using S = std::remove_const_t<decltype(stack)>;
    const esp_suite s = aes256_cbc_hmac_sha1_96::value;
    const test::suite_keys k(s);
    esp_sa<B> out(cfg(s, k, 11)), in(cfg(s, k, 11));
    endpoint<B, S> tx(stack, {.mtu = 1500}, &out, nullptr), rx(stack, {.mtu = 1500}, nullptr, &in);
    constexpr std::size_t n = 40, stride = S::headroom + 1400 + S::tailroom;
    std::vector<std::uint8_t> buf(n * stride);
    std::vector<frame> frames(n);
    std::vector<result<byte_span>> sent(n);
    std::vector<result<decap_info>> got(n);
    long before = allocations_so_far();
    std::size_t ok = 0;
    for (int round = 0; round <= 1000; ++round) {
      if (round == 1) before = allocations_so_far();  // round 0 may size Botan's reused buffers
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t len = 28 + (round * 41 + i * 37) % 1372;
        test::write_inner_ipv4(buf.data() + i * stride + S::headroom, len);
        frames[i] = frame({buf.data() + i * stride, stride}, S::headroom, len);
      }
      ok += tx.encap_burst(frames, sent);
      ok += rx.decap_burst(frames, got);
    }
    CHECK(ok == 2 * n * 1001);
    CHECK(allocations_so_far() - before == 0);
  }

  TEST_CASE_TEMPLATE("no heap allocation per packet: encap, decap and bursts with 1,000 SAs in the table", B, ENCAP_BACKENDS) {
    for (const esp_suite s : {aes_256_gcm_16::value, aes_256_cbc_hmac_sha1_96::value, chacha20_poly1305::value}) {
      if (!B::supports(s)) continue;
      CAPTURE(to_string(s));
      const test::suite_keys k(s);
      const auto spec = parse_spec("ipv4(src=192.0.2.1,dst=192.0.2.2)/udp(4500)/esp(" + to_string(s) + ")/ipv4").value();
      sa_table<B> table(1000);
      for (std::uint32_t i = 0; i < 999; ++i) table.add({.spi = 0x10000 + i, .suite = s, .keys = {k.enc, k.auth}});
      table.add({.spi = 0x1001, .suite = s, .keys = {k.enc, k.auth}});
      esp_sa<B> out({.spi = 0x1001, .suite = s, .keys = {k.enc, k.auth}});
      runtime_endpoint<B> ep(spec, {}, &out, &table);
      const std::size_t stride = ep.headroom() + 1400 + ep.tailroom();
      std::vector<std::uint8_t> buf(stride * 40);
      std::vector<frame> frames(40);
      std::vector<result<byte_span>> sent(40);
      std::vector<result<decap_info>> got(40);
      long before = 0;
      for (int round = 0; round < 4; ++round) {
        if (round == 1) before = allocations_so_far();  // round 0 may size a backend's reused buffers
        for (std::size_t i = 0; i < 40; ++i) {
          test::write_inner_ipv4(buf.data() + i * stride + ep.headroom(), 64 + i * 30);
          frames[i] = frame({buf.data() + i * stride, stride}, ep.headroom(), 64 + i * 30);
        }
        if (round % 2) {
          REQUIRE(ep.encap_burst(frames, sent) == 40);
          REQUIRE(ep.decap_burst(frames, got) == 40);
        } else {
          for (std::size_t i = 0; i < 40; ++i) {
            REQUIRE(ep.encap(frames[i]));
            REQUIRE(ep.decap(frames[i]));
          }
        }
      }
      CHECK(allocations_so_far() - before == 0);
    }
  }

  // (and no exception: Botan's AEAD decryption throws on a bad tag, which the backend
  // must never reach for a forged packet)
  TEST_CASE_TEMPLATE("no heap allocation and no exception on forged packets: a flipped ICV bit, 10,000 times per suite", B,
                     ENCAP_BACKENDS) {
    for (const esp_suite& s : test::suites_of<B>()) {
      if (s.icv_size() == 0) continue;  // nothing to forge against (integrity "none")
      CAPTURE(to_string(s));
      const test::suite_keys k(s);
      esp_sa<B> out(cfg(s, k, 9, true)), in(cfg(s, k, 9, true));
      std::vector<std::uint8_t> buf(64 + 1400 + 300);
      frame f(buf, 64, 1000);
      test::write_inner_ipv4(f.begin(), 1000);
      REQUIRE(out.encap(f, ip_proto::ipv4));
      const std::vector<std::uint8_t> sealed(f.data().begin(), f.data().end());
      {  // a good packet first: it may size a backend's reused buffers
        frame g(buf, 64, 1000);
        test::write_inner_ipv4(g.begin(), 1000);
        REQUIRE(out.encap(g, ip_proto::ipv4));
        REQUIRE(in.decap(g));
      }
      const long before = allocations_so_far(), thrown = throws_so_far();
      bool refused = true;
      for (int i = 0; i < 10000; ++i) {
        std::copy(sealed.begin(), sealed.end(), buf.begin() + 64);
        frame h(buf, 64, sealed.size());
        h.data()[sealed.size() - 1] ^= static_cast<std::uint8_t>(1u << (i % 8));
        refused &= in.decap(h).error() == errc::esp_bad_icv;
      }
      CHECK(refused);
      CHECK(allocations_so_far() - before == 0);
      CHECK(throws_so_far() - thrown == 0);
    }
  }
}
