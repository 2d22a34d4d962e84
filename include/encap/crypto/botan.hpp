// encap/crypto/botan.hpp — the default crypto backend, on Botan 3 (3.7 and later) or Botan 2
// (2.19, Debian 12's libbotan-2-dev), CMake target encap::botan: one header, public Botan
// API only (Botan 2's includes GHASH; Botan 3 made it internal), the same bytes and errors
// on both. The only header that includes Botan, and
// the only place that catches exceptions (Botan may throw; the data path must not).
//
// Per packet: no allocation once the first packet has sized the reused tail buffer, no
// re-keying, no system call, no exception. AEAD bulk data is processed in place; Botan
// needs the last partial block (< 64 bytes) and the tag in a vector, which is reused.
//
// Inbound, AES-GCM and AES-GMAC are verified before anything is decrypted: Botan's GCM
// decryption decrypts as it hashes and throws on a bad tag, so the tag is computed first
// (gcm_tag below: with GHASH on Botan 2, through GCM encryption on Botan 3), and a forged
// packet costs one GHASH and leaves no plaintext.
// ChaCha20-Poly1305 is built from Botan's ChaCha and Poly1305 so that it too verifies
// first (Botan's AEAD throws on a bad tag, which made forged packets 2-3x dearer than
// good ones). AES-CCM is built here on the AES block cipher (Botan 2's CCM buffers and
// allocates per message); its MAC covers the plaintext, so it decrypts first and wipes
// the payload on failure.
#pragma once

#include <botan/aead.h>
#include <botan/block_cipher.h>
#include <botan/build.h>
#include <botan/cipher_mode.h>
#include <botan/exceptn.h>
#include <botan/mac.h>
#include <botan/stream_cipher.h>

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "esp_crypto.hpp"

// Botan 2 still exports GHASH: one direct pass over the ciphertext is its fastest verify-first
// GCM. Botan 3 makes it internal: see gcm_tag.
#if BOTAN_VERSION_MAJOR < 3
#include "detail/botan_ghash.hpp"
#define ENCAP_BOTAN_HAS_GHASH 1
#endif

#if BOTAN_VERSION_MAJOR < 2 || (BOTAN_VERSION_MAJOR == 2 && BOTAN_VERSION_MINOR < 19)
#error "encap's Botan backend needs Botan 2.19 or Botan 3"
#endif

namespace encap {
inline namespace v0 {

struct botan_backend_inspect;  // tests: one block through the CBC IV cipher, to check make_iv's batches

class botan_backend {
  friend struct botan_backend_inspect;
#if BOTAN_VERSION_MAJOR >= 3
  static constexpr Botan::Cipher_Dir encryption = Botan::Cipher_Dir::Encryption;
  static constexpr Botan::Cipher_Dir decryption = Botan::Cipher_Dir::Decryption;
#else
  static constexpr Botan::Cipher_Dir encryption = Botan::ENCRYPTION;
  static constexpr Botan::Cipher_Dir decryption = Botan::DECRYPTION;
#endif

 public:
  static constexpr std::string_view name = "botan";
  static constexpr int botan_major = BOTAN_VERSION_MAJOR;

  // An allow-list, every enumerator named (-Wswitch flags one that is added and not decided).
  static constexpr bool supports(const esp_suite& s) noexcept {
    if (!s.valid()) return false;
    switch (s.cipher) {
      case cipher_id::des3_cbc:  // RFC 8221 MUST NOT: sizing only
        return false;
      case cipher_id::null:
      case cipher_id::aes128_cbc: case cipher_id::aes192_cbc: case cipher_id::aes256_cbc:
      case cipher_id::aes128_ctr: case cipher_id::aes192_ctr: case cipher_id::aes256_ctr:
      case cipher_id::aes128_gcm_8: case cipher_id::aes128_gcm_12: case cipher_id::aes128_gcm_16:
      case cipher_id::aes192_gcm_8: case cipher_id::aes192_gcm_12: case cipher_id::aes192_gcm_16:
      case cipher_id::aes256_gcm_8: case cipher_id::aes256_gcm_12: case cipher_id::aes256_gcm_16:
      case cipher_id::aes128_ccm_8: case cipher_id::aes128_ccm_12: case cipher_id::aes128_ccm_16:
      case cipher_id::aes192_ccm_8: case cipher_id::aes192_ccm_12: case cipher_id::aes192_ccm_16:
      case cipher_id::aes256_ccm_8: case cipher_id::aes256_ccm_12: case cipher_id::aes256_ccm_16:
      case cipher_id::aes128_gmac: case cipher_id::aes192_gmac: case cipher_id::aes256_gmac:
      case cipher_id::chacha20_poly1305:
        break;
    }
    switch (s.integ) {
      case integ_id::aes_xcbc_96:  // Botan has no AES-XCBC-MAC
        return false;
      case integ_id::unspecified: case integ_id::none:
      case integ_id::hmac_md5_96: case integ_id::hmac_sha1_96: case integ_id::aes_cmac_96:
      case integ_id::hmac_sha256_128: case integ_id::hmac_sha384_192: case integ_id::hmac_sha512_256:
        return true;
    }
    return false;
  }

  // Every length is checked before anything is expanded; the salt lives in a member that
  // wipes itself, and Botan wipes its own key schedules, so a throw leaves no key behind.
  botan_backend(const esp_suite& s, const esp_keys& keys) : suite_((check_setup<botan_backend>(s, keys), s)) {
    const cipher_info& c = s.c();
    const std::uint8_t* key = keys.encryption.data();
    salt_len_ = c.salt_size;
    if (c.salt_size) std::memcpy(salt_.data(), key + c.key_size, c.salt_size);
    const std::string aes = c.mode == cipher_mode::none || c.mode == cipher_mode::chacha20_poly1305
                                ? std::string()
                                : "AES-" + std::to_string(aes_key_bits(c));

    switch (c.mode) {
      case cipher_mode::gcm:
        enc_aead_ = Botan::AEAD_Mode::create_or_throw(aes + "/GCM(" + std::to_string(c.icv_size) + ")", encryption);
        enc_aead_->set_key(key, c.key_size);
        granularity_ = enc_aead_->update_granularity();
        tail_.reserve(256 + 64);
        gcm_setup(key, c.key_size, aes);
        break;
      case cipher_mode::chacha20_poly1305:  // from its parts (RFC 8439 §2.8), to verify before decrypting
        chacha_ = Botan::StreamCipher::create_or_throw("ChaCha(20)");
        chacha_->set_key(key, c.key_size);
        poly_ = Botan::MessageAuthenticationCode::create_or_throw("Poly1305");
        break;
      case cipher_mode::gmac:
        gcm_setup(key, c.key_size, aes);
        break;
      case cipher_mode::ccm:
        block_ = Botan::BlockCipher::create_or_throw(aes);
        block_->set_key(key, c.key_size);
        ctr_ = Botan::StreamCipher::create_or_throw("CTR-BE(" + aes + ")");
        ctr_->set_key(key, c.key_size);
        break;
      case cipher_mode::cbc: {
        enc_mode_ = Botan::Cipher_Mode::create_or_throw(aes + "/CBC/NoPadding", encryption);
        dec_mode_ = Botan::Cipher_Mode::create_or_throw(aes + "/CBC/NoPadding", decryption);
        enc_mode_->set_key(key, c.key_size);
        dec_mode_->set_key(key, c.key_size);
        iv_cipher_ = Botan::BlockCipher::create_or_throw("AES-128");  // the CBC IV key (cbc_iv_block)
        secret_bytes<16> k;
        random_bytes(k.data(), 16);
        iv_cipher_->set_key(k.data(), 16);
        break;
      }
      case cipher_mode::ctr:
        ctr_ = Botan::StreamCipher::create_or_throw("CTR-BE(" + aes + ")");
        ctr_->set_key(key, c.key_size);
        break;
      case cipher_mode::none:
        break;
    }
    if (const char* mac = mac_name(c.aead ? integ_id::unspecified : s.integ)) {
      mac_ = Botan::MessageAuthenticationCode::create_or_throw(mac);
      mac_->set_key(keys.integrity.data(), keys.integrity.size());
    }
  }

  botan_backend(const botan_backend&) = delete;
  botan_backend& operator=(const botan_backend&) = delete;
#ifndef ENCAP_BOTAN_HAS_GHASH
  ~botan_backend() { secure_wipe(h_x_.data(), sizeof h_x_); }  // multiples of H forge GCM tags
#endif

  // CBC: AES-128(cbc_iv_block) under the SA's IV key, a batch in one call (Botan pipelines
  // the blocks; one call a packet cost about 15 ns of a 64-byte encap).
  void make_iv(std::uint64_t seq, byte_span out) noexcept {
    if (out.empty()) return;
    if (!iv_cipher_) return counter_iv(seq, out);
    (void)cbc_ivs_.make(seq, out, [&](std::uint8_t* blocks, std::size_t n) {
      iv_cipher_->encrypt_n(blocks, blocks, n);
      return true;
    });
  }

  errc seal(const esp_packet_view& v) noexcept {
    try {
      switch (suite_.c().mode) {
        case cipher_mode::gcm:
          return aead_seal(v);
        case cipher_mode::chacha20_poly1305:  // encrypt, then MAC the ciphertext
          chacha_start(v);
          chacha_->cipher1(v.body(), v.body_size());
          poly1305_tag(v, v.icv());
          return errc::ok;
        case cipher_mode::ccm:  // MAC the plaintext, then encrypt
          ccm_tag(v, v.icv());
          ccm_crypt(v);
          return errc::ok;
        case cipher_mode::gmac:
          gmac_tag(v, v.icv());
          return errc::ok;
        case cipher_mode::cbc:
          enc_mode_->start(v.iv(), v.iv_size);
          enc_mode_->process(v.body(), v.body_size());
          break;
        case cipher_mode::ctr:
          ctr_crypt(v);
          break;
        case cipher_mode::none:
          break;
      }
      if (mac_) {
        std::array<std::uint8_t, 64> full{};
        integrity(v, full.data());
        std::memcpy(v.icv(), full.data(), v.icv_size);
      }
      return errc::ok;
    } catch (...) {
      return errc::crypto_failure;  // not reached with a supported suite
    }
  }

  errc open(const esp_packet_view& v) noexcept {
    try {
      switch (suite_.c().mode) {
        case cipher_mode::chacha20_poly1305: {  // MAC the ciphertext, then decrypt
          chacha_start(v);
          std::array<std::uint8_t, 16> tag{};
          poly1305_tag(v, tag.data());
          if (!tag_matches(tag, v)) return errc::esp_bad_icv;
          chacha_->cipher1(v.body(), v.body_size());
          return errc::ok;
        }
        case cipher_mode::gcm: {  // verify, then decrypt
          std::array<std::uint8_t, 16> tag{};
          gcm_tag(v, tag.data());
          if (!tag_matches(tag, v)) return errc::esp_bad_icv;
          std::array<std::uint8_t, 16> block{};
          esp_nonce({salt_.data(), salt_len_}, v, block);
          store_be32(&block[12], 2);  // GCM encrypts from inc32(J0)
          gcm_ctr_->set_iv(block.data(), block.size());
          gcm_ctr_->cipher1(v.body(), v.body_size());
          return errc::ok;
        }
        case cipher_mode::gmac: {
          std::array<std::uint8_t, 16> tag{};
          gmac_tag(v, tag.data());
          return tag_matches(tag, v) ? errc::ok : errc::esp_bad_icv;
        }
        case cipher_mode::ccm: {  // the MAC covers the plaintext: decrypt, check, wipe on failure
          ccm_crypt(v);
          std::array<std::uint8_t, 16> tag{};
          ccm_tag(v, tag.data());
          if (tag_matches(tag, v)) return errc::ok;
          secure_wipe(v.body(), v.body_size());
          return errc::esp_bad_icv;
        }
        case cipher_mode::cbc:
        case cipher_mode::ctr:
        case cipher_mode::none:
          break;
      }
      if (mac_) {  // verify before decrypting: nothing unauthenticated is ever decrypted
        std::array<std::uint8_t, 64> full{};
        integrity(v, full.data());
        if (!ct_equal(full.data(), v.icv(), v.icv_size)) return errc::esp_bad_icv;
      }
      if (suite_.c().mode == cipher_mode::cbc) {
        dec_mode_->start(v.iv(), v.iv_size);
        dec_mode_->process(v.body(), v.body_size());
      } else if (suite_.c().mode == cipher_mode::ctr) {
        ctr_crypt(v);
      }
      return errc::ok;
    } catch (...) {
      return errc::esp_bad_icv;
    }
  }

 private:
  // The integrity algorithm's Botan name; nullptr: none (AEAD, integrity "none").
  static const char* mac_name(integ_id i) {
    switch (i) {
      case integ_id::unspecified: case integ_id::none: return nullptr;
      case integ_id::hmac_md5_96: return "HMAC(MD5)";
      case integ_id::hmac_sha1_96: return "HMAC(SHA-1)";
      case integ_id::hmac_sha256_128: return "HMAC(SHA-256)";
      case integ_id::hmac_sha384_192: return "HMAC(SHA-384)";
      case integ_id::hmac_sha512_256: return "HMAC(SHA-512)";
      case integ_id::aes_cmac_96: return "CMAC(AES-128)";
      case integ_id::aes_xcbc_96: break;  // refused by supports()
    }
    throw std::invalid_argument("botan backend: no such integrity algorithm");
  }

  errc aead_seal(const esp_packet_view& v) {
    std::array<std::uint8_t, 12> aad{};
    std::array<std::uint8_t, 16> nonce{};
    enc_aead_->set_associated_data(aad.data(), esp_aad(v, aad));
    enc_aead_->start(nonce.data(), esp_nonce({salt_.data(), salt_len_}, v, nonce));
    const std::size_t n = v.body_size();
    const std::size_t bulk = granularity_ ? n - n % granularity_ : 0;
    if (bulk) enc_aead_->process(v.body(), bulk);
    tail_.assign(v.body() + bulk, v.body() + n);
    enc_aead_->finish(tail_, 0);  // appends the tag
    std::memcpy(v.body() + bulk, tail_.data(), n - bulk);
    std::memcpy(v.icv(), tail_.data() + (n - bulk), v.icv_size);
    return errc::ok;
  }

  // ChaCha20-Poly1305 (RFC 8439 §2.6, §2.8; RFC 7634: nonce = salt || IV, AAD = SPI || Seq):
  // the one-time Poly1305 key is the first 32 bytes of keystream block 0; the payload
  // is encrypted from block 1.
  void chacha_start(const esp_packet_view& v) {
    std::array<std::uint8_t, 16> nonce{};
    chacha_->set_iv(nonce.data(), esp_nonce({salt_.data(), salt_len_}, v, nonce));
    std::array<std::uint8_t, 64> block0{};
    chacha_->cipher1(block0.data(), block0.size());  // keystream block 0; the cipher is now at block 1
    poly_->set_key(block0.data(), 32);
    secure_wipe(block0.data(), block0.size());
  }

  void poly1305_tag(const esp_packet_view& v, std::uint8_t* out) {
    static constexpr std::array<std::uint8_t, 16> zeros{};
    std::array<std::uint8_t, 12> aad{};
    const std::size_t aad_len = esp_aad(v, aad), n = v.body_size();
    poly_->update(aad.data(), aad_len);
    poly_->update(zeros.data(), (16 - aad_len % 16) % 16);
    poly_->update(v.body(), n);
    poly_->update(zeros.data(), (16 - n % 16) % 16);
    std::array<std::uint8_t, 16> lengths{};
    for (std::size_t i = 0; i < 8; ++i) {  // little-endian 64-bit lengths
      lengths[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(aad_len) >> (8 * i));
      lengths[8 + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(n) >> (8 * i));
    }
    poly_->update(lengths.data(), lengths.size());
    poly_->final(out);
  }

  // GCM from its parts (NIST SP 800-38D §7): H = E(0^128), J0 = salt || IV || 1,
  // tag = GHASH_H(A, C) xor E(J0), payload = C xor CTR from inc32(J0). Botan's public API
  // has no GHASH, but GCM encryption of an empty message with additional data M is
  // GHASH_H(M, [len(M) || 0]) xor E(J0): a GHASH whose length block differs from the one
  // GCM wants by a value that only depends on the lengths. gcm_lengths_h holds H * x^j for
  // the bit positions a length can reach, so the difference times H is a few XORs.
  void gcm_setup(const std::uint8_t* key, std::size_t len, const std::string& aes) {
    block_ = Botan::BlockCipher::create_or_throw(aes);
    block_->set_key(key, len);
    gcm_ctr_ = Botan::StreamCipher::create_or_throw("CTR-BE(" + aes + ",4)");
    gcm_ctr_->set_key(key, len);
    std::array<std::uint8_t, 16> h{};
    block_->encrypt(h.data());
#ifdef ENCAP_BOTAN_HAS_GHASH
    ghash_ = std::make_unique<Botan::GHASH>();
    ghash_->set_key(h.data(), h.size());
    secure_wipe(h.data(), h.size());
#else
    tag_aead_ = Botan::AEAD_Mode::create_or_throw(aes + "/GCM(16)", encryption);
    tag_aead_->set_key(key, len);
    tail_.reserve(256 + 64);
    std::uint64_t hi = load_be64(h.data()), lo = load_be64(h.data() + 8);
    secure_wipe(h.data(), h.size());
    for (std::size_t j = 0; j < 128; ++j) {  // H * x^j (SP 800-38D Algorithm 1's right shift)
      if (j >= 64 - length_bits && j < 64) h_x_[j - (64 - length_bits)] = {hi, lo};
      if (j >= 128 - length_bits) h_x_[length_bits + j - (128 - length_bits)] = {hi, lo};
      const std::uint64_t reduce = (0 - (lo & 1)) & 0xE100000000000000ull;  // constant time in H
      lo = (lo >> 1) | (hi << 63);
      hi = (hi >> 1) ^ reduce;
    }
    hi = lo = 0;
#endif
  }

#ifdef ENCAP_BOTAN_HAS_GHASH
  // The GCM tag of an ESP packet (RFC 4106 §5: A = SPI || Seq, or SPI || Seq high || Seq
  // low with ESN): GHASH over A and the ciphertext, xor E(J0).
  void gcm_tag(const esp_packet_view& v, std::uint8_t* out) { ghash_tag(v, out, false); }
  void gmac_tag(const esp_packet_view& v, std::uint8_t* out) { ghash_tag(v, out, true); }

  // gmac: RFC 4543 §3.3-3.5, everything from the SPI to the trailer is AAD and nothing is
  // encrypted; with ESN the AAD is SPI || Seq hi || Seq lo || IV || ..., fed as one 16-byte
  // block and the rest in place.
  void ghash_tag(const esp_packet_view& v, std::uint8_t* out, bool gmac) {
    std::array<std::uint8_t, 16> j0{};
    esp_nonce({salt_.data(), salt_len_}, v, j0);
    store_be32(&j0[12], 1);
    block_->encrypt(j0.data());
    std::array<std::uint8_t, 12> aad{};
    const std::size_t aad_len = esp_aad(v, aad);
    if (!gmac) {
      ghash_->set_associated_data(aad.data(), aad_len);
      ghash_->start(j0.data(), j0.size());
      ghash_->update(v.body(), v.body_size());
    } else {
      ghash_->set_associated_data(nullptr, 0);
      ghash_->start(j0.data(), j0.size());
      if (v.esn) {
        std::array<std::uint8_t, 16> first{};
        std::memcpy(first.data(), aad.data(), 12);
        std::memcpy(first.data() + 12, v.iv(), 4);
        ghash_->update_associated_data(first.data(), first.size());
        ghash_->update_associated_data(v.iv() + 4, v.iv_size - 4 + v.body_size());
      } else {
        ghash_->update_associated_data(v.packet.data(), 8 + v.iv_size + v.body_size());
      }
    }
    ghash_->final(out, 16);
  }

#else
  // A length field of GCM's last block (bits, big-endian) reaches bit 22 at most: 8 *
  // (16 + 65535 + ...) < 2^20, kept with margin.
  static constexpr std::size_t length_bits = 24;

  // XORs (a || b) * H into tag, a and b being the two 64-bit halves of a GCM length block:
  // bit k of a is x^(63-k), bit k of b is x^(127-k). The lengths are public: branching on
  // them reveals nothing, and the table is read at public positions only.
  void add_lengths_times_h(std::uint64_t a, std::uint64_t b, std::uint8_t* tag) const noexcept {
    std::uint64_t hi = 0, lo = 0;
    for (std::size_t k = 0; k < length_bits; ++k) {
      if ((a >> k) & 1) { hi ^= h_x_[length_bits - 1 - k][0]; lo ^= h_x_[length_bits - 1 - k][1]; }
      if ((b >> k) & 1) { hi ^= h_x_[2 * length_bits - 1 - k][0]; lo ^= h_x_[2 * length_bits - 1 - k][1]; }
    }
    store_be64(tag, load_be64(tag) ^ hi);
    store_be64(tag + 8, load_be64(tag + 8) ^ lo);
  }

  // The GCM tag of an ESP packet (RFC 4106 §5: A = SPI || Seq, or SPI || Seq high || Seq
  // low with ESN). GCM's first block is A padded with zeros: it is written over the 16
  // bytes before the ciphertext (SPI, Seq and the 8-byte IV) and those are put back, so
  // A || C is one contiguous additional-data span.
  void gcm_tag(const esp_packet_view& v, std::uint8_t* out) {
    std::array<std::uint8_t, 16> nonce{}, saved{}, first{};
    const std::size_t nonce_len = esp_nonce({salt_.data(), salt_len_}, v, nonce);
    std::array<std::uint8_t, 12> aad{};
    const std::size_t aad_len = esp_aad(v, aad), n = v.body_size();
    std::memcpy(first.data(), aad.data(), aad_len);
    std::uint8_t* m = v.body() - 16;  // = the SPI: GCM's IV is 8 bytes (RFC 4106 §3.1)
    std::memcpy(saved.data(), m, 16);
    std::memcpy(m, first.data(), 16);
    tag_aead_->set_associated_data(m, 16 + n);
    tag_aead_->start(nonce.data(), nonce_len);
    tail_.clear();
    tag_aead_->finish(tail_, 0);
    std::memcpy(m, saved.data(), 16);
    std::memcpy(out, tail_.data(), 16);
    // the length block hashed was [8 (16 + n) || 0]; GCM's is [8 aad_len || 8 n]
    add_lengths_times_h((8 * std::uint64_t{aad_len}) ^ (8 * std::uint64_t{16 + n}), 8 * std::uint64_t{n}, out);
  }

  // AES-GMAC (RFC 4543 §3.3-3.5): everything from the SPI to the trailer is additional
  // data and nothing is encrypted, which is GCM of an empty message exactly. With ESN the
  // high sequence bits sit between the SPI and the low ones, so the data is laid out in a
  // buffer that the first ESN packet sizes for any IP packet (64 KiB, only on GMAC SAs with ESN).
  void gmac_tag(const esp_packet_view& v, std::uint8_t* out) {
    std::array<std::uint8_t, 16> nonce{};
    const std::size_t nonce_len = esp_nonce({salt_.data(), salt_len_}, v, nonce);
    const std::size_t n = 8 + v.iv_size + v.body_size();
    if (!v.esn) {
      tag_aead_->set_associated_data(v.packet.data(), n);
    } else {
      if (gmac_esn_.capacity() < 65536 + 16) gmac_esn_.reserve(65536 + 16);
      gmac_esn_.resize(n + 4);
      std::array<std::uint8_t, 12> aad{};
      esp_aad(v, aad);
      std::memcpy(gmac_esn_.data(), aad.data(), 12);
      std::memcpy(gmac_esn_.data() + 12, v.iv(), n - 8);
      tag_aead_->set_associated_data(gmac_esn_.data(), n + 4);
    }
    tag_aead_->start(nonce.data(), nonce_len);
    tail_.clear();
    tag_aead_->finish(tail_, 0);
    std::memcpy(out, tail_.data(), 16);
  }

#endif

  // CCM (RFC 3610) as RFC 4309 uses it: nonce = salt(3) || IV(8), L = 4, AAD = SPI || Seq.
  void ccm_crypt(const esp_packet_view& v) {
    std::array<std::uint8_t, 16> nonce{}, a{};
    esp_nonce({salt_.data(), salt_len_}, v, nonce);
    a[0] = 3;  // flags: L - 1
    std::memcpy(&a[1], nonce.data(), 11);
    store_be32(&a[12], 1);  // A1: the first keystream block for the payload
    ctr_->set_iv(a.data(), a.size());
    ctr_->cipher1(v.body(), v.body_size());
  }

  void ccm_tag(const esp_packet_view& v, std::uint8_t* out) {
    std::array<std::uint8_t, 16> nonce{};
    esp_nonce({salt_.data(), salt_len_}, v, nonce);
    const std::size_t m = v.icv_size < 16 ? v.icv_size : 16;  // 8, 12 or 16 (a bound GCC sees where the size is a constant)
    std::array<std::uint8_t, 16> x{};  // B0: flags, nonce, message length
    x[0] = static_cast<std::uint8_t>(0x40 | ((m - 2) / 2) << 3 | 3);
    std::memcpy(&x[1], nonce.data(), 11);
    store_be32(&x[12], static_cast<std::uint32_t>(v.body_size()));
    block_->encrypt(x.data());
    std::array<std::uint8_t, 12> aad{};
    const std::size_t aad_len = esp_aad(v, aad);
    // the AAD block: 2-byte length, AAD, zero padding
    x[0] ^= static_cast<std::uint8_t>(aad_len >> 8);
    x[1] ^= static_cast<std::uint8_t>(aad_len);
    for (std::size_t i = 0; i < aad_len; ++i) x[2 + i] ^= aad[i];
    block_->encrypt(x.data());
    // the plaintext, in 16-byte blocks, zero padded (after decryption the body is plaintext)
    const std::uint8_t* p = v.body();
    std::size_t n = v.body_size();
    for (; n > 0; p += 16) {
      const std::size_t k = n < 16 ? n : 16;
      for (std::size_t i = 0; i < k; ++i) x[i] ^= p[i];
      block_->encrypt(x.data());
      n -= k;
    }
    // U = T xor S0, S0 = E(A0), A0 = flags(L-1) || nonce || 0
    std::array<std::uint8_t, 16> s0{};
    s0[0] = 3;
    std::memcpy(&s0[1], nonce.data(), 11);
    block_->encrypt(s0.data());
    for (std::size_t i = 0; i < m; ++i) out[i] = x[i] ^ s0[i];
  }

  // RFC 4303 §3.3.2.1: the ICV covers SPI .. ciphertext, then the implicit high sequence bits.
  void integrity(const esp_packet_view& v, std::uint8_t* out) {
    mac_->update(v.packet.data(), v.authenticated_size());
    if (v.esn) {
      std::array<std::uint8_t, 4> hi{};
      store_be32(hi.data(), v.seq_hi);
      mac_->update(hi.data(), hi.size());
    }
    mac_->final(out);
  }

  void ctr_crypt(const esp_packet_view& v) {
    std::array<std::uint8_t, 16> block{};
    ctr_block({salt_.data(), 4}, v, block);
    ctr_->set_iv(block.data(), block.size());
    ctr_->cipher1(v.body(), v.body_size());
  }

  esp_suite suite_;
  secret_bytes<4> salt_;
  cbc_iv_batch cbc_ivs_;  // make_iv's next CBC IVs
  std::size_t salt_len_ = 0;
  std::size_t granularity_ = 0;
  std::unique_ptr<Botan::AEAD_Mode> enc_aead_;
  std::unique_ptr<Botan::StreamCipher> chacha_;
  std::unique_ptr<Botan::MessageAuthenticationCode> poly_;
  std::unique_ptr<Botan::Cipher_Mode> enc_mode_, dec_mode_;
  std::unique_ptr<Botan::StreamCipher> ctr_;
  std::unique_ptr<Botan::MessageAuthenticationCode> mac_;
  std::unique_ptr<Botan::BlockCipher> iv_cipher_, block_;
  std::unique_ptr<Botan::StreamCipher> gcm_ctr_;
#ifdef ENCAP_BOTAN_HAS_GHASH
  std::unique_ptr<Botan::GHASH> ghash_;
#else
  std::unique_ptr<Botan::AEAD_Mode> tag_aead_;  // GCM(16) encryption of empty messages: GHASH's public face
  std::array<std::array<std::uint64_t, 2>, 2 * length_bits> h_x_{};
  std::vector<std::uint8_t> gmac_esn_;
#endif
  Botan::secure_vector<std::uint8_t> tail_;
};

static_assert(esp_backend<botan_backend>);

}  // namespace v0
}  // namespace encap
