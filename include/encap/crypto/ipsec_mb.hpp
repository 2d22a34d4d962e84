// encap/crypto/ipsec_mb.hpp — a crypto backend on intel-ipsec-mb (Debian
// libipsec-mb-dev, CMake option ENCAP_WITH_IPSEC_MB, target encap::ipsec_mb): AES-GCM
// (ICV 8/12/16) and ChaCha20-Poly1305 through the library's direct API, which uses
// AES-NI/VAES/VPCLMULQDQ/AVX-512 where the CPU has them.
//
// Not (yet) here: CBC/CTR with HMAC through the job API (ipsec-mb 1.3 has no public
// HMAC ipad/opad helper), GMAC and CCM. supports() says which suites it takes; the
// Botan backend covers the rest.
//
// Per packet: no allocation, no system call, no exception. The manager is allocated
// once per backend at setup. Both AEADs authenticate while decrypting, so a packet
// whose tag fails has its payload wiped before the error is returned.
#pragma once

#include <intel-ipsec-mb.h>

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "esp_crypto.hpp"

namespace encap {
inline namespace v0 {

class ipsec_mb_backend {
 public:
  static constexpr std::string_view name = "ipsec_mb";

  static bool supports(const esp_suite& s) noexcept {
    if (!s.valid()) return false;
    switch (s.cipher) {
      case cipher_id::aes128_gcm_8: case cipher_id::aes128_gcm_12: case cipher_id::aes128_gcm_16:
      case cipher_id::aes256_gcm_8: case cipher_id::aes256_gcm_12: case cipher_id::aes256_gcm_16:
      case cipher_id::chacha20_poly1305:
        return true;
      default:
        return false;
    }
  }

  ipsec_mb_backend(const esp_suite& s, const esp_keys& keys) : suite_(s), mgr_(alloc_mb_mgr(0), &free_mb_mgr) {
    if (!supports(s)) throw std::invalid_argument("ipsec_mb backend: unsupported suite");
    if (!mgr_) throw std::runtime_error("ipsec_mb backend: cannot allocate the manager");
    init_mb_mgr_auto(mgr_.get(), nullptr);
    if (imb_get_errno(mgr_.get()) != 0) throw std::runtime_error("ipsec_mb backend: no usable CPU architecture");
    const cipher_info& c = s.c();
    if (keys.encryption.size() != c.key_size + c.salt_size)
      throw std::invalid_argument("encryption key must be " + std::to_string(c.key_size + c.salt_size) + " bytes");
    if (c.salt_size) std::memcpy(salt_.data(), keys.encryption.data() + c.key_size, c.salt_size);
    if (c.mode == cipher_mode::gcm) {
      gcm_key_ = std::make_unique<gcm_key_data>();
      if (c.key_size == 16) IMB_AES128_GCM_PRE(mgr_.get(), keys.encryption.data(), gcm_key_.get());
      else IMB_AES256_GCM_PRE(mgr_.get(), keys.encryption.data(), gcm_key_.get());
    } else {
      std::memcpy(chacha_key_.data(), keys.encryption.data(), 32);
    }
  }

  ipsec_mb_backend(const ipsec_mb_backend&) = delete;
  ipsec_mb_backend& operator=(const ipsec_mb_backend&) = delete;
  ~ipsec_mb_backend() {
    if (gcm_key_) secure_wipe(gcm_key_.get(), sizeof(gcm_key_data));
    secure_wipe(chacha_key_.data(), chacha_key_.size());
    secure_wipe(salt_.data(), salt_.size());
  }

  void make_iv(std::uint64_t seq, byte_span out) noexcept {  // counter-based suites only
    std::array<std::uint8_t, 8> b{};
    store_be64(b.data(), seq);
    std::memcpy(out.data(), b.data(), out.size() < 8 ? out.size() : 8);
  }

  errc seal(const esp_packet_view& v) noexcept {
    crypt(v, true, v.icv());
    return errc::ok;
  }

  errc open(const esp_packet_view& v) noexcept {
    std::array<std::uint8_t, 16> tag{};
    crypt(v, false, tag.data());
    if (ct_equal(tag.data(), v.icv(), v.icv_size)) return errc::ok;
    secure_wipe(v.body(), v.body_size());  // decrypted while authenticating: release nothing
    return errc::esp_bad_icv;
  }

 private:
  // Encrypts or decrypts the body in place and writes the tag it computes to `tag`.
  void crypt(const esp_packet_view& v, bool encrypt, std::uint8_t* tag) noexcept {
    std::array<std::uint8_t, 12> aad{}, nonce{};
    const std::size_t aad_len = esp_aad(v, aad);
    std::memcpy(nonce.data(), salt_.data(), 4);  // RFC 4106 §4, RFC 7634 §2: salt || IV
    std::memcpy(nonce.data() + 4, v.iv(), 8);
    IMB_MGR* m = mgr_.get();
    std::uint8_t* b = v.body();
    const std::size_t n = v.body_size();
    if (gcm_key_) {
      const bool k128 = suite_.c().key_size == 16;
      if (encrypt && k128) IMB_AES128_GCM_ENC(m, gcm_key_.get(), &gcm_ctx_, b, b, n, nonce.data(), aad.data(), aad_len, tag, v.icv_size);
      else if (encrypt) IMB_AES256_GCM_ENC(m, gcm_key_.get(), &gcm_ctx_, b, b, n, nonce.data(), aad.data(), aad_len, tag, v.icv_size);
      else if (k128) IMB_AES128_GCM_DEC(m, gcm_key_.get(), &gcm_ctx_, b, b, n, nonce.data(), aad.data(), aad_len, tag, v.icv_size);
      else IMB_AES256_GCM_DEC(m, gcm_key_.get(), &gcm_ctx_, b, b, n, nonce.data(), aad.data(), aad_len, tag, v.icv_size);
      return;
    }
    IMB_CHACHA20_POLY1305_INIT(m, chacha_key_.data(), &chacha_ctx_, nonce.data(), aad.data(), aad_len);
    if (encrypt) IMB_CHACHA20_POLY1305_ENC_UPDATE(m, chacha_key_.data(), &chacha_ctx_, b, b, n);
    else IMB_CHACHA20_POLY1305_DEC_UPDATE(m, chacha_key_.data(), &chacha_ctx_, b, b, n);
    IMB_CHACHA20_POLY1305_ENC_FINALIZE(m, &chacha_ctx_, tag, v.icv_size);  // the same finalize for both directions
  }

  esp_suite suite_;
  std::unique_ptr<IMB_MGR, void (*)(IMB_MGR*)> mgr_;
  std::unique_ptr<gcm_key_data> gcm_key_;
  gcm_context_data gcm_ctx_{};
  chacha20_poly1305_context_data chacha_ctx_{};
  alignas(16) std::array<std::uint8_t, 32> chacha_key_{};
  std::array<std::uint8_t, 4> salt_{};
};

static_assert(esp_backend<ipsec_mb_backend>);

}  // namespace v0
}  // namespace encap
