// encap/sa_table.hpp — the inbound SAs of an endpoint, found by SPI (RFC 4303 §2.1: the
// receiver chose the SPI, so it alone names the SA). Old and new SAs live side by side
// through a rekey (RFC 7296 §2.8) until the old one is erased.
//
// Open addressing with linear probing over a power-of-two array kept at most half full:
// a lookup is one multiply and, almost always, one or two probes, however many SAs there
// are. add() and erase() are setup-time calls (they may allocate); find() is the data
// path's and never allocates.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "esp_sa.hpp"

namespace encap {
inline namespace v0 {

template <esp_backend Backend>
class sa_table {
 public:
  explicit sa_table(std::size_t expected = 8) { rehash(capacity_for(expected)); }
  sa_table(const sa_table&) = delete;
  sa_table& operator=(const sa_table&) = delete;

  // Builds the SA (esp_sa's checks; std::invalid_argument on a bad config) and adds it.
  // An SPI already in the table is refused: SPIs are unique per receiver.
  esp_sa<Backend>& add(const esp_sa_config& c) {
    if (c.spi == 0) throw std::invalid_argument("SPI 0 is reserved (RFC 4303 §2.1)");
    if (find(c.spi)) throw std::invalid_argument("SPI " + std::to_string(c.spi) + " is already in the table");
    auto sa = std::make_unique<esp_sa<Backend>>(c);
    if ((owned_.size() + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    owned_.push_back(std::move(sa));
    place(c.spi, static_cast<std::uint32_t>(owned_.size() - 1));
    return *owned_.back();
  }

  // Removes and destroys the SA (its keys are wiped). False if the SPI is not there.
  bool erase(std::uint32_t spi) noexcept {
    std::size_t i = probe(spi);
    if (slots_[i].spi != spi) return false;
    const std::uint32_t idx = slots_[i].index;
    remove_slot(i);
    if (idx + 1 != owned_.size()) {  // the last SA takes the erased one's place (its slot keeps its pointer)
      owned_[idx] = std::move(owned_.back());
      slots_[probe(owned_[idx]->spi())].index = idx;
    }
    owned_.pop_back();
    return true;
  }

  // The data path's lookup: nullptr for an SPI the table does not hold.
  esp_sa<Backend>* find(std::uint32_t spi) const noexcept {
    const slot& s = slots_[probe(spi)];
    return s.spi == spi ? s.sa : nullptr;  // (an empty slot's sa is nullptr: SPI 0 finds nothing)
  }

  std::size_t size() const noexcept { return owned_.size(); }
  bool empty() const noexcept { return owned_.empty(); }
  // Every SA, in no particular order (for listing and reloads).
  template <class F> void for_each(F&& f) const {
    for (const auto& sa : owned_) f(*sa);
  }

 private:
  struct slot {
    std::uint32_t spi = 0;  // 0: empty (SPI 0 is never used)
    std::uint32_t index = 0;               // in owned_ (for erase)
    esp_sa<Backend>* sa = nullptr;         // the SA itself: a lookup is one load less
  };

  static std::size_t capacity_for(std::size_t n) {
    std::size_t c = 16;
    while (c < n * 2) c *= 2;
    return c;
  }
  // Fibonacci hashing: SPIs may be sequential or random; both spread.
  std::size_t home(std::uint32_t spi) const noexcept {
    return static_cast<std::size_t>((spi * 0x9e3779b9u) >> shift_) & mask_;
  }
  // The slot holding spi, or the empty slot where it would go.
  std::size_t probe(std::uint32_t spi) const noexcept {
    std::size_t i = home(spi);
    while (slots_[i].spi != 0 && slots_[i].spi != spi) i = (i + 1) & mask_;
    return i;
  }
  void place(std::uint32_t spi, std::uint32_t index) noexcept { slots_[probe(spi)] = {spi, index, owned_[index].get()}; }
  // Backward-shift deletion: no tombstones, so probes stay short after many rekeys.
  void remove_slot(std::size_t i) noexcept {
    std::size_t j = i;
    while (true) {
      j = (j + 1) & mask_;
      if (slots_[j].spi == 0) break;
      const std::size_t h = home(slots_[j].spi);
      // move j back to i unless its home lies cyclically in (i, j]
      if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = {};
  }
  void rehash(std::size_t cap) {
    slots_.assign(cap, slot{});
    mask_ = cap - 1;
    unsigned bits = 0;
    while ((std::size_t{1} << bits) < cap) ++bits;
    shift_ = 32 - bits;
    for (std::size_t k = 0; k < owned_.size(); ++k) place(owned_[k]->spi(), static_cast<std::uint32_t>(k));
  }

  std::vector<slot> slots_;
  std::vector<std::unique_ptr<esp_sa<Backend>>> owned_;
  std::size_t mask_ = 0;
  unsigned shift_ = 28;
};

}  // namespace v0
}  // namespace encap
