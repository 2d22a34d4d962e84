// replay.hpp: the anti-replay window against a reference model (a set of seen numbers).
#include <encap/replay.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <set>

using namespace encap;

namespace {
// RFC 4303 §3.4.3 as a specification: accept if above the right edge, reject if left of
// the window, reject if seen.
struct model {
  std::uint64_t size, top = 0;
  std::set<std::uint64_t> seen;
  errc check(std::uint64_t s) const {
    if (s == 0) return errc::esp_too_old;
    if (s > top) return errc::ok;
    if (top - s >= size) return errc::esp_too_old;
    return seen.count(s) ? errc::esp_replayed : errc::ok;
  }
  void update(std::uint64_t s) { seen.insert(s); if (s > top) top = s; }
};
}  // namespace

TEST_SUITE("replay") {
  TEST_CASE("random arrival orders agree with the reference model, window sizes 1..4096") {
    for (std::uint32_t size : {1u, 32u, 64u, 65u, 128u, 1000u, 4096u}) {
      CAPTURE(size);
      replay_window w(size);
      model m{size, 0, {}};
      std::mt19937_64 rng(size);  // seeded: reproducible
      std::uint64_t next = 1;
      for (int i = 0; i < 20000; ++i) {
        std::uint64_t s;
        switch (rng() % 6) {
          case 0: s = next + rng() % 3; next = s + 1; break;                    // in order, small gaps
          case 1: s = next > 1 ? next - 1 - rng() % (2 * size + 1) % next : 1; break;  // reordered, duplicates, too old
          case 2: s = next + size + rng() % (3 * size); next = s + 1; break;    // a jump past the window
          case 3: s = m.top; break;                                             // exact duplicate of the top
          case 4: s = m.top > size ? m.top - size + 1 : 1; break;               // the window's left edge
          default: s = m.top > size ? m.top - size : 0; break;                  // just left of it
        }
        const errc expected = m.check(s);
        REQUIRE(w.check(s) == expected);
        if (expected == errc::ok) { w.update(s); m.update(s); }
        REQUIRE(w.top() == m.top);
      }
    }
  }

  TEST_CASE("a window of 64 accepts 64 out-of-order packets and rejects the 65th behind") {
    replay_window w(64);
    w.update(100);
    for (std::uint64_t s = 37; s < 100; ++s) { CHECK(w.check(s) == errc::ok); w.update(s); }
    CHECK(w.check(36) == errc::esp_too_old);
    CHECK(w.check(37) == errc::esp_replayed);
    CHECK(w.check(0) == errc::esp_too_old);
  }

  TEST_CASE("ESN: the high half is inferred per RFC 4303 Appendix A2.2") {
    replay_window w(64);
    std::uint64_t s = 0;
    w.update((std::uint64_t{1} << 32) + 10);  // top: high 1, low 10 — window straddles 2^32
    CHECK(w.infer_esn(5, s));
    CHECK(s == (std::uint64_t{1} << 32) + 5);
    CHECK(w.infer_esn(0xfffffff0u, s));       // just below the 2^32 boundary: high half 0
    CHECK(s == 0xfffffff0u);
    CHECK(w.infer_esn(1000, s));              // ahead: same high half
    CHECK(s == (std::uint64_t{1} << 32) + 1000);
    replay_window w2(64);
    w2.update(0xfffffff0u);                   // case A near the top of the low half
    CHECK(w2.infer_esn(3, s));                // wrapped: the next high half
    CHECK(s == (std::uint64_t{1} << 32) + 3);
    replay_window fresh(64);
    CHECK_FALSE(fresh.infer_esn(0xffffffffu, s));  // "before" sequence 0: not a valid number
  }

  TEST_CASE("restore() resumes an SA handed over at a sequence number") {
    replay_window w(64);
    w.restore(1000);
    CHECK(w.check(1000) == errc::esp_replayed);
    CHECK(w.check(990) == errc::esp_replayed);
    CHECK(w.check(1001) == errc::ok);
    w.update(1003);
    CHECK(w.check(1001) == errc::ok);
    CHECK(w.check(1002) == errc::ok);
  }
}
