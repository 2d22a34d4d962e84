// encap/replay.hpp — the inbound anti-replay window (RFC 4303 §3.4.3) as an RFC 6479
// bitmap: a ring of 64-bit words indexed by sequence number, so a check or an update
// costs the same whatever the window size (an update clears at most the words that the
// right edge moves past). Sizes up to 65536 packets; allocation only at construction.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "result.hpp"

namespace encap {
inline namespace v0 {

class replay_window {
 public:
  static constexpr std::uint32_t max_size = 65536;

  // Throws std::invalid_argument for a size of 0 or above max_size (setup only).
  explicit replay_window(std::uint32_t size = 64) {
    if (size == 0 || size > max_size)
      throw std::invalid_argument("replay window size " + std::to_string(size) + ": 1 to " + std::to_string(max_size));
    size_ = size;
    // one spare word so the window never shares a word with the bits being cleared
    std::uint32_t words = 1;
    while (words * 64 < size + 64) words *= 2;
    words_ = words;
    bits_ = std::make_unique<std::uint64_t[]>(words);
  }

  std::uint32_t size() const noexcept { return size_; }
  std::uint64_t top() const noexcept { return top_; }  // highest sequence number accepted so far

  // May a packet with this (full, 64-bit) sequence number be accepted? Does not change state.
  errc check(std::uint64_t seq) const noexcept {
    if (seq == 0) return errc::esp_too_old;  // sequence numbers start at 1 (RFC 4303 §3.3.3)
    if (seq > top_) return errc::ok;
    if (top_ - seq >= size_) return errc::esp_too_old;
    return (word(seq) >> (seq & 63)) & 1 ? errc::esp_replayed : errc::ok;
  }

  // Records an authenticated packet; call only after check() and the ICV have passed.
  void update(std::uint64_t seq) noexcept {
    if (seq > top_) {
      if ((seq >> 6) != (top_ >> 6)) clear_past(seq);  // (in top's own word: nothing to clear)
      top_ = seq;
    }
    bits_[(seq >> 6) & (words_ - 1)] |= std::uint64_t{1} << (seq & 63);
  }

  // Resume at `top` with everything at or below it treated as seen (SA handover).
  void restore(std::uint64_t top) noexcept {
    for (std::uint64_t i = 0; i < words_; ++i) bits_[i] = ~std::uint64_t{0};
    const unsigned b = top & 63;  // in top's own word only the bits up to top are seen
    bits_[(top >> 6) & (words_ - 1)] = b == 63 ? ~std::uint64_t{0} : (std::uint64_t{1} << (b + 1)) - 1;
    top_ = top;
  }

  // RFC 4303 Appendix A2.2: the high 32 bits of an extended sequence number from the
  // low 32 bits on the wire and the window. No value means "before the window's start".
  bool infer_esn(std::uint32_t seq_lo, std::uint64_t& seq) const noexcept {
    const std::uint32_t tl = static_cast<std::uint32_t>(top_), th = static_cast<std::uint32_t>(top_ >> 32);
    const std::uint32_t bottom = tl - size_ + 1;  // modulo 2^32
    std::uint32_t sh;
    if (tl >= size_ - 1) {
      sh = seq_lo >= bottom ? th : th + 1;  // case A
    } else {
      if (seq_lo >= bottom) {  // case B: the window straddles a 2^32 boundary
        if (th == 0) return false;
        sh = th - 1;
      } else {
        sh = th;
      }
    }
    seq = std::uint64_t{sh} << 32 | seq_lo;
    return true;
  }

 private:
  // The words the right edge passes on its way from top_ to seq, cleared for reuse.
  void clear_past(std::uint64_t seq) noexcept {
    const std::uint64_t first = (top_ >> 6) + 1, last = seq >> 6;
    const std::uint64_t n = last - first + 1 < words_ ? last - first + 1 : words_;
    for (std::uint64_t i = 0; i < n && first + i <= last; ++i) bits_[(first + i) & (words_ - 1)] = 0;
  }

  std::uint64_t word(std::uint64_t seq) const noexcept { return bits_[(seq >> 6) & (words_ - 1)]; }

  std::uint32_t size_ = 64;
  std::uint64_t words_ = 2;
  std::uint64_t top_ = 0;
  std::unique_ptr<std::uint64_t[]> bits_;
};

}  // namespace v0
}  // namespace encap
