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
#include <stdexcept>
#include <string>
#include <string.h>     // explicit_bzero
#include <sys/random.h> // getrandom

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
  const auto x = [](const std::uint8_t* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  };
  std::uint64_t diff = 0;
  if (n >= 8 && n <= 16) {  // an ICV of 8, 12 or 16 bytes: the first and the last eight (overlapping)
    diff = (x(a) ^ x(b)) | (x(a + n - 8) ^ x(b + n - 8));
  } else {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) diff |= x(a + i) ^ x(b + i);
    for (; i < n; ++i) diff |= static_cast<std::uint64_t>(a[i] ^ b[i]);
  }
  return static_cast<volatile std::uint64_t&>(diff) == 0;
}

// An AEAD's computed 16-byte tag against the packet's ICV (8, 12 or 16 bytes). A longer ICV
// comes from no valid AEAD suite and fails here rather than read past the tag (and GCC,
// which sees the suite's ICV size as a constant through the typed endpoint, knows it).
inline bool tag_matches(const std::array<std::uint8_t, 16>& tag, const esp_packet_view& v) noexcept {
  return v.icv_size <= tag.size() && ct_equal(tag.data(), v.icv(), v.icv_size);
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

// ---- setup, shared by every backend ------------------------------------------------------

// Key material that is wiped however it goes: a constructor that throws still runs the
// destructors of the members it had built, so a backend keeps its salt and schedules in these.
template <std::size_t N>
struct secret_bytes {
  alignas(16) std::array<std::uint8_t, N> bytes{};
  secret_bytes() = default;
  secret_bytes(const secret_bytes&) = delete;
  secret_bytes& operator=(const secret_bytes&) = delete;
  ~secret_bytes() { secure_wipe(bytes.data(), N); }
  std::uint8_t* data() noexcept { return bytes.data(); }
  const std::uint8_t* data() const noexcept { return bytes.data(); }
};

// Everything a backend checks before it expands a key: the suite is valid and on the
// backend's allow-list, the encryption key is exactly key + salt bytes, the integrity key
// exactly the algorithm's (none for AEAD and for integrity "none"). Throws
// std::invalid_argument naming the rule; nothing has been expanded or copied yet.
template <class Backend>
void check_setup(const esp_suite& s, const esp_keys& keys) {
  const std::string who = std::string(Backend::name) + " backend: ";
  if (!s.valid()) throw std::invalid_argument(who + std::string(to_string(s.check())));
  if (!Backend::supports(s)) throw std::invalid_argument(who + "unsupported suite " + to_string(s));
  const cipher_info& c = s.c();
  if (keys.encryption.size() != c.key_size + c.salt_size)
    throw std::invalid_argument(who + "the encryption key of " + std::string(c.name) + " is " + std::to_string(c.key_size) +
                                " bytes" + (c.salt_size ? " + " + std::to_string(c.salt_size) + " bytes of salt" : std::string()) +
                                ", not " + std::to_string(keys.encryption.size()));
  const std::size_t ik = c.aead ? 0 : s.i().key_size;
  if (keys.integrity.size() != ik)
    throw std::invalid_argument(who + "the integrity key of " + to_string(s) + " is " + std::to_string(ik) + " bytes, not " +
                                std::to_string(keys.integrity.size()));
}

// The AES key size of a suite, switched exactly (a table row with another size is a bug).
inline std::size_t aes_key_bits(const cipher_info& c) {
  switch (c.key_size) {
    case 16: return 128;
    case 24: return 192;
    case 32: return 256;
  }
  throw std::invalid_argument("not an AES key size: " + std::to_string(c.key_size));
}

// Random bytes from the kernel (setup only: CBC IV keys).
inline void random_bytes(std::uint8_t* p, std::size_t n) {
  for (std::size_t done = 0; done < n;) {
    const ssize_t r = getrandom(p + done, n - done, 0);
    if (r <= 0) throw std::runtime_error("getrandom failed");
    done += static_cast<std::size_t>(r);
  }
}

// IV schemes. Counter-based suites (CTR, GCM, CCM, GMAC, ChaCha20-Poly1305) need an IV
// that is unique per key (RFC 4106 §3.1, RFC 3686 §3): the sequence number. CBC needs an
// unpredictable one (RFC 3602 §3): the block 0^64 || seq encrypted under a random AES-128
// key of the SA's own; the backend does that one encryption.
inline void counter_iv(std::uint64_t seq, byte_span out) noexcept {
  if (out.size() == 8) return store_be64(out.data(), seq);  // every counter suite's IV: one store
  std::array<std::uint8_t, 8> b{};
  store_be64(b.data(), seq);
  std::memcpy(out.data(), b.data(), out.size() < 8 ? out.size() : 8);
}
inline std::array<std::uint8_t, 16> cbc_iv_block(std::uint64_t seq) noexcept {
  std::array<std::uint8_t, 16> block{};
  store_be64(&block[8], seq);
  return block;
}
// CBC IVs a batch at a time: outbound sequence numbers run consecutively, so a backend
// encrypts the blocks (cbc_iv_block) of the next `size` numbers in one call rather than one
// a packet; the same IVs. They wait here unsent, wiped with the SA.
class cbc_iv_batch {
 public:
  static constexpr std::size_t size = 32;
  // The IV of seq into `out`: from this batch, or from a new one starting at seq, encrypted
  // in place by encrypt(blocks, n) (false: it failed; nothing is kept, nothing written).
  template <class Encrypt>
  bool make(std::uint64_t seq, byte_span out, Encrypt&& encrypt) noexcept {
    if (seq - first_ >= count_) {
      const std::uint64_t left = ~std::uint64_t{0} - seq;  // numbers after seq
      const std::size_t n = left < size - 1 ? static_cast<std::size_t>(left) + 1 : size;
      for (std::size_t i = 0; i < n; ++i) {
        store_be64(blocks_.data() + 16 * i, 0);
        store_be64(blocks_.data() + 16 * i + 8, seq + i);
      }
      first_ = seq;
      count_ = encrypt(blocks_.data(), n) ? n : 0;
      if (count_ == 0) return false;
    }
    std::memcpy(out.data(), blocks_.data() + 16 * (seq - first_), out.size() < 16 ? out.size() : 16);
    return true;
  }

 private:
  secret_bytes<16 * size> blocks_;
  std::uint64_t first_ = 0;  // blocks_ holds the IVs of first_ and the count_ - 1 after it
  std::size_t count_ = 0;
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
// One result per packet in `out` (out.size() >= v.size()). A backend may also say, per
// SA, whether bursts gain (`bool interleaves() const noexcept`, and for sealing alone
// `interleaves_seal()`); endpoints loop single calls where they do not (the bursts'
// bookkeeping costs more than it saves there).
template <class B>
concept esp_burst_backend = esp_backend<B> && requires(B& b, std::span<const esp_packet_view> v, std::span<errc> out) {
  { b.seal_burst(v, out) } noexcept;
  { b.open_burst(v, out) } noexcept;
};

}  // namespace v0
}  // namespace encap
