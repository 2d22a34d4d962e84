// encap/crypto/botan.hpp — the default crypto backend, on Botan 2 (Debian
// libbotan-2-dev, CMake target encap::botan). The only header that includes Botan, and
// the only place that catches exceptions: Botan 2 throws on a bad AEAD tag.
//
// Per packet: no allocation once the first packet has sized the reused tail buffer, no
// re-keying, no system call. AEAD bulk data is processed in place; Botan needs the last
// partial block (< 64 bytes) and the tag in a vector, which is reused.
#pragma once

#include <botan/aead.h>
#include <botan/block_cipher.h>
#include <botan/cipher_mode.h>
#include <botan/exceptn.h>
#include <botan/mac.h>
#include <botan/stream_cipher.h>
#include <botan/system_rng.h>

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "esp_crypto.hpp"

namespace encap {
inline namespace v0 {

class botan_backend {
 public:
  static constexpr std::string_view name = "botan";

  static bool supports(const esp_suite& s) noexcept {
    if (!s.valid() || s.c().legacy || s.cipher == cipher_id::des3_cbc) return false;
    return s.integ != integ_id::aes_xcbc_96;  // Botan 2 has no AES-XCBC-MAC
  }

  botan_backend(const esp_suite& s, const esp_keys& keys) : suite_(s) {
    if (!supports(s)) throw std::invalid_argument("botan backend: unsupported suite");
    const cipher_info& c = s.c();
    if (keys.encryption.size() != c.key_size + c.salt_size)
      throw std::invalid_argument("encryption key must be " + std::to_string(c.key_size + c.salt_size) + " bytes");
    const std::uint8_t* key = keys.encryption.data();
    salt_len_ = c.salt_size;
    std::memcpy(salt_.data(), key + c.key_size, c.salt_size);
    const std::string aes = "AES-" + std::to_string(c.key_size * 8);

    switch (c.mode) {
      case cipher_mode::gcm: case cipher_mode::ccm: case cipher_mode::chacha20_poly1305: {
        const std::string algo = c.mode == cipher_mode::gcm ? aes + "/GCM(" + std::to_string(c.icv_size) + ")"
                               : c.mode == cipher_mode::ccm ? aes + "/CCM(" + std::to_string(c.icv_size) + ",4)"
                                                            : std::string("ChaCha20Poly1305");
        enc_aead_ = Botan::AEAD_Mode::create_or_throw(algo, Botan::ENCRYPTION);
        dec_aead_ = Botan::AEAD_Mode::create_or_throw(algo, Botan::DECRYPTION);
        enc_aead_->set_key(key, c.key_size);
        dec_aead_->set_key(key, c.key_size);
        // CCM buffers everything until finish(): feed it whole
        granularity_ = c.mode == cipher_mode::ccm ? 0 : enc_aead_->update_granularity();
        tail_.reserve(256 + 64);
        break;
      }
      case cipher_mode::gmac:
        mac_ = Botan::MessageAuthenticationCode::create_or_throw("GMAC(" + aes + ")");
        mac_->set_key(key, c.key_size);
        break;
      case cipher_mode::cbc:
        enc_mode_ = Botan::Cipher_Mode::create_or_throw(aes + "/CBC/NoPadding", Botan::ENCRYPTION);
        dec_mode_ = Botan::Cipher_Mode::create_or_throw(aes + "/CBC/NoPadding", Botan::DECRYPTION);
        enc_mode_->set_key(key, c.key_size);
        dec_mode_->set_key(key, c.key_size);
        // CBC IVs must be unpredictable (RFC 3602 §3): encrypt a counter under a random key
        iv_cipher_ = Botan::BlockCipher::create_or_throw("AES-128");
        {
          std::array<std::uint8_t, 16> k{};
          Botan::system_rng().randomize(k.data(), k.size());
          iv_cipher_->set_key(k.data(), k.size());
          secure_wipe(k.data(), k.size());
        }
        break;
      case cipher_mode::ctr:
        ctr_ = Botan::StreamCipher::create_or_throw("CTR-BE(" + aes + ")");
        ctr_->set_key(key, c.key_size);
        break;
      case cipher_mode::none:
        break;
    }
    if (!c.aead) {
      const integ_info& i = s.i();
      if (i.id == integ_id::none) return;
      if (keys.integrity.size() != i.key_size)
        throw std::invalid_argument("integrity key must be " + std::to_string(i.key_size) + " bytes");
      const char* name = i.id == integ_id::hmac_md5_96       ? "HMAC(MD5)"
                         : i.id == integ_id::hmac_sha1_96    ? "HMAC(SHA-1)"
                         : i.id == integ_id::hmac_sha256_128 ? "HMAC(SHA-256)"
                         : i.id == integ_id::hmac_sha384_192 ? "HMAC(SHA-384)"
                         : i.id == integ_id::hmac_sha512_256 ? "HMAC(SHA-512)"
                                                             : "CMAC(AES-128)";
      mac_ = Botan::MessageAuthenticationCode::create_or_throw(name);
      mac_->set_key(keys.integrity.data(), keys.integrity.size());
    }
  }

  botan_backend(const botan_backend&) = delete;
  botan_backend& operator=(const botan_backend&) = delete;
  ~botan_backend() { secure_wipe(salt_.data(), salt_.size()); }  // Botan wipes its own key schedules

  void make_iv(std::uint64_t seq, byte_span out) noexcept {
    if (out.empty()) return;
    if (iv_cipher_) {
      std::array<std::uint8_t, 16> block{};
      store_be64(&block[8], seq);
      iv_cipher_->encrypt(block.data());
      std::memcpy(out.data(), block.data(), out.size());
    } else {
      // counter-based suites: the IV only has to be unique per key (RFC 4106 §3.1)
      std::array<std::uint8_t, 8> b{};
      store_be64(b.data(), seq);
      std::memcpy(out.data(), b.data(), out.size() < 8 ? out.size() : 8);
    }
  }

  errc seal(const esp_packet_view& v) noexcept {
    try {
      switch (suite_.c().mode) {
        case cipher_mode::gcm: case cipher_mode::ccm: case cipher_mode::chacha20_poly1305:
          return aead_seal(v);
        case cipher_mode::gmac:
          gmac(v, v.icv());
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
      return errc::unsupported_suite;  // not reached with a supported suite
    }
  }

  errc open(const esp_packet_view& v) noexcept {
    try {
      switch (suite_.c().mode) {
        case cipher_mode::gcm: case cipher_mode::ccm: case cipher_mode::chacha20_poly1305:
          return aead_open(v);
        case cipher_mode::gmac: {
          std::array<std::uint8_t, 16> tag{};
          gmac(v, tag.data());
          return ct_equal(tag.data(), v.icv(), v.icv_size) ? errc::ok : errc::esp_bad_icv;
        }
        default:
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

  errc aead_open(const esp_packet_view& v) {
    std::array<std::uint8_t, 12> aad{};
    std::array<std::uint8_t, 16> nonce{};
    dec_aead_->set_associated_data(aad.data(), esp_aad(v, aad));
    dec_aead_->start(nonce.data(), esp_nonce({salt_.data(), salt_len_}, v, nonce));
    const std::size_t n = v.body_size();
    const std::size_t bulk = granularity_ ? n - n % granularity_ : 0;
    if (bulk) dec_aead_->process(v.body(), bulk);
    tail_.assign(v.body() + bulk, v.body() + n + v.icv_size);
    try {
      dec_aead_->finish(tail_, 0);  // verifies the tag
    } catch (const Botan::Invalid_Authentication_Tag&) {
      // GCM and ChaCha20-Poly1305 decrypt while they authenticate: wipe what was decrypted
      secure_wipe(v.body(), bulk);
      secure_wipe(tail_.data(), tail_.size());
      return errc::esp_bad_icv;
    }
    std::memcpy(v.body() + bulk, tail_.data(), n - bulk);
    return errc::ok;
  }

  // RFC 4543 §3.3-3.5: AAD = SPI || Seq (|| with ESN: SPI || Seq hi || Seq lo) || IV ||
  // payload, padding and trailer; nothing is encrypted; nonce = salt || IV.
  void gmac(const esp_packet_view& v, std::uint8_t* out) {
    std::array<std::uint8_t, 16> nonce{};
    mac_->start(nonce.data(), esp_nonce({salt_.data(), salt_len_}, v, nonce));
    std::array<std::uint8_t, 12> aad{};
    mac_->update(aad.data(), esp_aad(v, aad));
    mac_->update(v.iv(), v.iv_size + v.body_size());
    mac_->final(out);
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
  std::array<std::uint8_t, 4> salt_{};
  std::size_t salt_len_ = 0;
  std::size_t granularity_ = 0;
  std::unique_ptr<Botan::AEAD_Mode> enc_aead_, dec_aead_;
  std::unique_ptr<Botan::Cipher_Mode> enc_mode_, dec_mode_;
  std::unique_ptr<Botan::StreamCipher> ctr_;
  std::unique_ptr<Botan::MessageAuthenticationCode> mac_;
  std::unique_ptr<Botan::BlockCipher> iv_cipher_;
  Botan::secure_vector<std::uint8_t> tail_;
};

static_assert(esp_backend<botan_backend>);

}  // namespace v0
}  // namespace encap
