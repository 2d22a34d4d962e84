// encap/crypto/esp_crypto.hpp — what every crypto backend shares: where the parts of an
// ESP packet are, the nonce and AAD rules of each suite's RFC, and a constant-time
// comparison. Backends implement seal()/open() over an esp_packet_view.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string.h>  // explicit_bzero

#include "../bytes.hpp"
#include "../result.hpp"
#include "suites.hpp"

namespace encap {
inline namespace v0 {

// One ESP packet in place: SPI(4) | Seq(4) | IV | body (payload..next header) | ICV.
struct esp_packet_view {
  byte_span packet;         // SPI .. end of ICV
  std::size_t iv_size = 0;
  std::size_t icv_size = 0;
  bool esn = false;
  std::uint32_t seq_hi = 0;  // with ESN: the high half, authenticated but not sent (RFC 4303 §2.2.1)

  std::uint8_t* header() const noexcept { return packet.data(); }
  std::uint8_t* iv() const noexcept { return packet.data() + 8; }
  std::uint8_t* body() const noexcept { return packet.data() + 8 + iv_size; }
  std::size_t body_size() const noexcept { return packet.size() - 8 - iv_size - icv_size; }
  std::uint8_t* icv() const noexcept { return packet.data() + packet.size() - icv_size; }
  // Bytes covered by a separate integrity algorithm: SPI through ciphertext (RFC 4303 §3.3.2)
  std::size_t authenticated_size() const noexcept { return packet.size() - icv_size; }
};

// AEAD additional data: SPI || Seq, or SPI || Seq high || Seq low with ESN
// (RFC 4106 §5, RFC 4309 §5, RFC 7634 §2.1). Returns its length (8 or 12).
// (Whole-word copies throughout: byte stores that a library then reads as one word
// stall on store forwarding, a measurable share of a small packet's time.)
inline std::size_t esp_aad(const esp_packet_view& v, std::array<std::uint8_t, 12>& aad) noexcept {
  if (!v.esn) {
    std::memcpy(aad.data(), v.packet.data(), 8);
    return 8;
  }
  std::memcpy(aad.data(), v.packet.data(), 4);
  store_be32(&aad[4], v.seq_hi);
  std::memcpy(&aad[8], v.packet.data() + 4, 4);
  return 12;
}

// AEAD nonce: salt || IV (RFC 4106 §4: 4 + 8, RFC 4309 §4: 3 + 8, RFC 7634 §2: 4 + 8).
inline std::size_t esp_nonce(const_byte_span salt, const esp_packet_view& v, std::array<std::uint8_t, 16>& nonce) noexcept {
  const std::size_t iv = v.iv_size < 16 - salt.size() ? v.iv_size : 16 - salt.size();
  if (!salt.empty()) std::memcpy(nonce.data(), salt.data(), salt.size());
  std::memcpy(nonce.data() + salt.size(), v.iv(), iv);
  return salt.size() + iv;
}

// RFC 3686 §4: counter block = nonce(4) || IV(8) || block counter starting at 1.
inline void ctr_block(const_byte_span nonce, const esp_packet_view& v, std::array<std::uint8_t, 16>& block) noexcept {
  std::memcpy(block.data(), nonce.data(), 4);
  std::memcpy(block.data() + 4, v.iv(), 8);
  store_be32(&block[12], 1);
}

// Compares without an early exit, so timing does not reveal where an ICV differs.
inline bool ct_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept {
  std::uint8_t diff = 0;
  for (std::size_t i = 0; i < n; ++i) diff = static_cast<std::uint8_t>(diff | (a[i] ^ b[i]));
  return static_cast<volatile std::uint8_t&>(diff) == 0;
}

// Overwrites key material or rejected plaintext in a way the optimiser may not drop
// (glibc's explicit_bzero: memset speed, unlike a volatile byte loop).
inline void secure_wipe(void* p, std::size_t n) noexcept { explicit_bzero(p, n); }

// Keys as configured: the encryption key with its salt/nonce at the end (RFC 4106 §8.1
// KEYMAT layout), and the integrity key.
struct esp_keys {
  const_byte_span encryption;
  const_byte_span integrity;
};

// What a backend provides. Construction takes (esp_suite, esp_keys) and throws
// std::invalid_argument for a suite or key it cannot use (setup time only).
template <class B>
concept esp_backend = requires(B& b, const esp_packet_view& v, std::uint64_t seq, byte_span out) {
  { b.seal(v) } noexcept -> std::same_as<errc>;  // encrypt body in place, write the ICV
  { b.open(v) } noexcept -> std::same_as<errc>;  // verify, then decrypt in place; on failure no plaintext remains
  { b.make_iv(seq, out) } noexcept;              // a fresh IV for the packet with this sequence number
  { B::supports(esp_suite{}) } -> std::same_as<bool>;
};

// Backends that take many packets in one call: a multi-buffer backend interleaves them.
// One result per packet in `out` (out.size() >= v.size()).
template <class B>
concept esp_burst_backend = esp_backend<B> && requires(B& b, std::span<const esp_packet_view> v, std::span<errc> out) {
  { b.seal_burst(v, out) } noexcept;
  { b.open_burst(v, out) } noexcept;
};

}  // namespace v0
}  // namespace encap
