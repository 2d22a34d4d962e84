// encap/sa_table.hpp — the inbound SAs of an endpoint, found by SPI (RFC 4303 §2.1: the
// receiver chose the SPI, so it alone names the SA). Old and new SAs live side by side
// through a rekey (RFC 7296 §2.8) until the old one is erased.
//
// Where SPIs are not the receiver's alone (manual keying, several peers configured with
// the same SPI), an SA may be bound to a peer: its address and, with NAT-T, its UDP
// source port (RFC 4301 §4.1 allows SPI plus addresses as the lookup key; RFC 3948 §2.2).
// A packet then finds the SA bound to the peer it came from, else the SPI's unbound SA;
// a bound SA never opens another peer's packets. A table with no bound SA looks up by SPI
// alone, at the same cost as before.
//
// Open addressing with linear probing over a power-of-two array kept at most half full:
// a lookup is one multiply and, almost always, one or two probes, however many SAs there
// are. add() and erase() are setup-time calls (they may allocate); find() is the data
// path's and never allocates.
#pragma once

#include <arpa/inet.h>  // inet_pton

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "esp_sa.hpp"

namespace encap {
inline namespace v0 {

// The peer an inbound SA is bound to: the outermost source address of its packets and,
// with NAT-T, their UDP source port (0: any port).
struct sa_peer {
  std::array<std::uint8_t, 16> address{};  // IPv4: the first 4 bytes
  bool ipv6 = false;
  std::uint16_t port = 0;

  // "192.0.2.1" or "2001:db8::1"; nullopt if it is neither.
  static std::optional<sa_peer> parse(std::string_view text, std::uint16_t port = 0) {
    sa_peer p{.port = port};
    const std::string s(text);
    if (inet_pton(AF_INET, s.c_str(), p.address.data()) == 1) return p;
    p.ipv6 = true;
    if (inet_pton(AF_INET6, s.c_str(), p.address.data()) == 1) return p;
    return std::nullopt;
  }
  // Is a packet from this source address (4 or 16 bytes) and UDP source port this peer's?
  bool matches(const std::uint8_t* source, bool source_ipv6, std::uint16_t source_port) const noexcept {
    return source && source_ipv6 == ipv6 && std::memcmp(source, address.data(), ipv6 ? 16 : 4) == 0 &&
           (port == 0 || port == source_port);
  }
  friend bool operator==(const sa_peer&, const sa_peer&) = default;
};

template <esp_backend Backend>
class sa_table {
 public:
  explicit sa_table(std::size_t expected = 8) { rehash(capacity_for(expected)); }
  sa_table(const sa_table&) = delete;
  sa_table& operator=(const sa_table&) = delete;

  // Builds the SA (esp_sa's checks; std::invalid_argument on a bad config) and adds it,
  // bound to `peer` if given. Refused: an SPI already in the table unbound, or already
  // bound to the same peer (SPIs are unique per receiver, or per receiver and peer).
  esp_sa<Backend>& add(const esp_sa_config& c, const std::optional<sa_peer>& peer = std::nullopt) {
    if (c.spi == 0) throw std::invalid_argument("SPI 0 is reserved (RFC 4303 §2.1)");
    if (slot_of(c.spi, peer) != npos)
      throw std::invalid_argument("SPI " + std::to_string(c.spi) + (peer ? " is already in the table for this peer" : " is already in the table"));
    auto sa = std::make_unique<esp_sa<Backend>>(c);
    if ((owned_.size() + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    owned_.push_back({std::move(sa), peer});
    bound_ += peer.has_value();
    place(static_cast<std::uint32_t>(owned_.size() - 1));
    return *owned_.back().sa;
  }

  // Removes and destroys the SA (its keys are wiped): the SPI's unbound SA, or the one
  // bound to `peer`. False if there is none.
  bool erase(std::uint32_t spi, const std::optional<sa_peer>& peer = std::nullopt) noexcept {
    const std::size_t i = slot_of(spi, peer);
    if (i == npos) return false;
    const std::uint32_t idx = slots_[i].index;
    remove_slot(i);
    bound_ -= owned_[idx].peer.has_value();
    const std::uint32_t last = static_cast<std::uint32_t>(owned_.size() - 1);
    if (idx != last) {  // the last SA takes the erased one's place (its slot keeps its pointer)
      owned_[idx] = std::move(owned_[last]);
      for (std::size_t j = home(owned_[idx].sa->spi());; j = (j + 1) & mask_)
        if (slots_[j].index == last && slots_[j].sa == owned_[idx].sa.get()) {
          slots_[j].index = idx;
          break;
        }
    }
    owned_.pop_back();
    return true;
  }

  // By SPI alone: the SPI's unbound SA, else one bound to some peer; nullptr if none.
  esp_sa<Backend>* find(std::uint32_t spi) const noexcept {
    esp_sa<Backend>* any = nullptr;
    for (std::size_t i = home(spi); slots_[i].spi != 0; i = (i + 1) & mask_) {
      if (slots_[i].spi != spi) continue;
      if (!slots_[i].bound) return slots_[i].sa;
      if (!any) any = slots_[i].sa;
    }
    return any;
  }

  // The data path's lookup, for a packet from `source` (the outermost source address, 4 or
  // 16 bytes) and UDP `source_port` (0 without UDP): the SA bound to that peer, else the
  // SPI's unbound SA; nullptr if neither (esp_unknown_spi: nothing is touched).
  esp_sa<Backend>* find(std::uint32_t spi, const std::uint8_t* source, bool source_ipv6, std::uint16_t source_port) const noexcept {
    std::size_t i = home(spi);
    if (bound_ == 0) {  // no peer bindings: SPI alone, as RFC 4301 §4.1's unicast rule
      while (slots_[i].spi != 0 && slots_[i].spi != spi) i = (i + 1) & mask_;
      return slots_[i].spi == spi ? slots_[i].sa : nullptr;  // (an empty slot's sa is nullptr)
    }
    esp_sa<Backend>* unbound = nullptr;
    for (; slots_[i].spi != 0; i = (i + 1) & mask_) {
      if (slots_[i].spi != spi) continue;
      if (!slots_[i].bound) unbound = slots_[i].sa;
      else if (owned_[slots_[i].index].peer->matches(source, source_ipv6, source_port)) return slots_[i].sa;
    }
    return unbound;
  }

  // The peer an SA of this table is bound to (nullopt: unbound, or not in this table).
  std::optional<sa_peer> peer_of(const esp_sa<Backend>& sa) const {
    for (const auto& e : owned_)
      if (e.sa.get() == &sa) return e.peer;
    return std::nullopt;
  }

  std::size_t size() const noexcept { return owned_.size(); }
  bool empty() const noexcept { return owned_.empty(); }
  // Every SA, in no particular order (for listing and reloads).
  template <class F> void for_each(F&& f) const {
    for (const auto& e : owned_) f(*e.sa);
  }

 private:
  static constexpr std::size_t npos = ~std::size_t{0};
  struct slot {
    std::uint32_t spi = 0;  // 0: empty (SPI 0 is never used)
    std::uint32_t index = 0;               // in owned_ (for erase and the peer)
    esp_sa<Backend>* sa = nullptr;         // the SA itself: a lookup is one load less
    bool bound = false;                    // bound to a peer (owned_[index].peer)
  };
  struct entry {
    std::unique_ptr<esp_sa<Backend>> sa;
    std::optional<sa_peer> peer;
  };

  // The slot holding exactly (spi, peer), or npos.
  std::size_t slot_of(std::uint32_t spi, const std::optional<sa_peer>& peer) const noexcept {
    for (std::size_t i = home(spi); slots_[i].spi != 0; i = (i + 1) & mask_)
      if (slots_[i].spi == spi && owned_[slots_[i].index].peer == peer) return i;
    return npos;
  }

  static std::size_t capacity_for(std::size_t n) {
    std::size_t c = 16;
    while (c < n * 2) c *= 2;
    return c;
  }
  // Fibonacci hashing: SPIs may be sequential or random; both spread.
  std::size_t home(std::uint32_t spi) const noexcept {
    return static_cast<std::size_t>((spi * 0x9e3779b9u) >> shift_) & mask_;
  }
  // The first empty slot from the SPI's home (an SPI may have several slots, one per peer).
  void place(std::uint32_t index) noexcept {
    const std::uint32_t spi = owned_[index].sa->spi();
    std::size_t i = home(spi);
    while (slots_[i].spi != 0) i = (i + 1) & mask_;
    slots_[i] = {spi, index, owned_[index].sa.get(), owned_[index].peer.has_value()};
  }
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
    for (std::size_t k = 0; k < owned_.size(); ++k) place(static_cast<std::uint32_t>(k));
  }

  std::vector<slot> slots_;
  std::vector<entry> owned_;
  std::size_t bound_ = 0;  // SAs bound to a peer: none, and a lookup is by SPI alone
  std::size_t mask_ = 0;
  unsigned shift_ = 28;
};

}  // namespace v0
}  // namespace encap
