// encap/crypto/ipsec_mb.hpp — a crypto backend on intel-ipsec-mb (Debian
// libipsec-mb-dev, CMake option ENCAP_WITH_IPSEC_MB, target encap::ipsec_mb), which uses
// AES-NI/VAES/VPCLMULQDQ/SHA-NI/AVX-512 where the CPU has them.
//
//   AES-GCM (128/192/256, ICV 8/12/16), ChaCha20-Poly1305: the direct API, one call per packet
//   AES-CBC, AES-CTR, NULL with HMAC-MD5/SHA-1/SHA-2 (precomputed inner/outer states),
//     AES-CMAC-96, AES-XCBC-MAC-96 or none: the job API, cipher and MAC in one job
//   AES-CCM-128/256 (ICV 8/12/16): the job API (1.3 has no CCM with 192-bit keys)
//
//   AES-GMAC: the direct GMAC API (with ESN, RFC 4543's AAD in two parts)
//
// Not here: 3DES (RFC 8221 MUST NOT). supports() is an allow-list.
//
// Bursts (seal_burst/open_burst) hand up to max_burst packets to the job manager before
// collecting any, so its multi-buffer code interleaves them: CBC encryption is serial
// within a packet and gains the most (2.5x for 8 packets of 1414 bytes, docs/performance.md).
//
// Managers: intel-ipsec-mb's job manager is 200 KB and not thread-safe, so each thread
// that runs SAs gets its own (allocated on the thread's first packet or setup), shared
// by every SA it runs: jobs carry their own keys and every call flushes what it
// submitted. Two per thread: the CPU's best (VAES/AVX2/AVX-512) for the AEADs, and for
// the job API, when the CPU has SHA-NI, the SSE manager: its SHA-NI HMAC finishes a lone
// job without hashing 7 idle AVX2 lanes (about 3x faster for one CBC + HMAC-SHA1 packet of
// 1414 bytes on this machine class), and it is as fast or faster in bursts too.
//
// Code path: the library's best for the CPU, unless set_ipsec_mb_arch() asks for an older
// one (SSE, AVX2), to measure on one machine what a CPU without AVX-512 gets or to keep
// AVX-512 off a core; threads take the choice when they first use the backend.
//
// Per packet: no allocation, no system call, no exception. Key schedules are allocated
// once per SA at setup. Decryption runs in the same call or job as verification, so a
// packet whose ICV fails has its payload wiped before the error is returned: nothing
// unauthenticated leaves the call.
#pragma once

#include <intel-ipsec-mb.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "esp_crypto.hpp"

namespace encap {
inline namespace v0 {

// intel-ipsec-mb's code paths (IMB_ARCH_*): `best` is the library's choice for the CPU.
enum class ipsec_mb_arch : std::uint8_t { best, sse, avx2, avx512 };

constexpr std::string_view to_string(ipsec_mb_arch a) noexcept {
  switch (a) {
    case ipsec_mb_arch::best: return "best";
    case ipsec_mb_arch::sse: return "sse";
    case ipsec_mb_arch::avx2: return "avx2";
    case ipsec_mb_arch::avx512: return "avx512";
  }
  return "?";
}

namespace detail {

inline std::atomic<ipsec_mb_arch> ipsec_mb_arch_wanted{ipsec_mb_arch::best};

// Initialises `m` for `a`; false where this CPU lacks the features `a` needs (the library
// would fault, not refuse, on some).
inline bool init_imb(IMB_MGR* m, ipsec_mb_arch a) noexcept {
  const auto has = [m](std::uint64_t need) { return (m->features & need) == need; };
  switch (a) {
    case ipsec_mb_arch::best: init_mb_mgr_auto(m, nullptr); break;
    case ipsec_mb_arch::sse: if (!has(IMB_CPUFLAGS_SSE)) return false; init_mb_mgr_sse(m); break;
    case ipsec_mb_arch::avx2: if (!has(IMB_CPUFLAGS_AVX2)) return false; init_mb_mgr_avx2(m); break;
    case ipsec_mb_arch::avx512: if (!has(IMB_CPUFLAGS_AVX512)) return false; init_mb_mgr_avx512(m); break;
  }
  return imb_get_errno(m) == 0;
}

// Per thread: the managers and the scratch of the jobs in flight.
struct imb_thread {
  static constexpr std::size_t max_burst = 32;  // jobs in flight per round; longer bursts take several
  struct slot {
    alignas(16) std::array<std::uint8_t, 16> nonce;
    std::array<std::uint8_t, 32> tag;    // the ICV computed (open; seal with ESN)
    std::array<std::uint8_t, 32> saved;  // with ESN: the received ICV, while Seq high occupies its place
    std::array<std::uint8_t, 12> aad;
    bool seq_hi_in_icv;                  // fill() put Seq high where the ICV goes; finish() puts the ICV back
  };
  IMB_MGR* best = nullptr;  // the CPU's best: the AEADs' direct API
  IMB_MGR* jobs = nullptr;  // the job API: SSE when the CPU has SHA-NI, else the best
  IMB_MGR* bursts = nullptr;  // several jobs at once: AVX-512's 16 lanes beat SHA-NI; else as jobs
  std::array<slot, max_burst> slots{};

  imb_thread() noexcept {
    best = alloc_mb_mgr(0);
    if (best && !init_imb(best, ipsec_mb_arch_wanted.load(std::memory_order_relaxed))) { free_mb_mgr(best); best = nullptr; }
    if (!best) return;
    jobs = bursts = best;
    if (!(best->features & IMB_FEATURE_SHANI)) return;
    IMB_MGR* sse = alloc_mb_mgr(0);
    if (sse) init_mb_mgr_sse(sse);
    if (sse && imb_get_errno(sse) == 0) jobs = sse;
    else if (sse) free_mb_mgr(sse);
    if (best->used_arch != IMB_ARCH_AVX512) bursts = jobs;  // AVX2's 8 lanes: measured no faster than SHA-NI
  }
  ~imb_thread() {
    secure_wipe(slots.data(), sizeof(slots));
    if (jobs != best) free_mb_mgr(jobs);
    if (best) free_mb_mgr(best);
  }
  imb_thread(const imb_thread&) = delete;
  imb_thread& operator=(const imb_thread&) = delete;

  // This thread's managers; nullptr if they cannot be had (no memory, no usable CPU).
  static imb_thread* get() noexcept {
    thread_local imb_thread t;
    return t.best ? &t : nullptr;
  }
};

}  // namespace detail

// The code path for threads that use the backend for the first time after this call (a
// thread keeps its managers). False, and nothing changes, where this CPU cannot run it.
// An SA runs on the code path of the thread that built it. AES-GCM SAs call that path's
// entries from any thread; the others fail (crypto_failure) on a thread with another path,
// since GMAC's key data differs between paths and their calls go through the thread's manager.
inline bool set_ipsec_mb_arch(ipsec_mb_arch a) noexcept {
  if (a != ipsec_mb_arch::best) {
    IMB_MGR* m = alloc_mb_mgr(0);
    const bool ok = m && detail::init_imb(m, a);
    if (m) free_mb_mgr(m);
    if (!ok) return false;
  }
  detail::ipsec_mb_arch_wanted.store(a, std::memory_order_relaxed);
  return true;
}

// The code path this thread's managers run (IMB_ARCH_* as ipsec_mb_arch; `best` if they
// cannot be had).
inline ipsec_mb_arch ipsec_mb_arch_in_use() noexcept {
  const detail::imb_thread* t = detail::imb_thread::get();
  if (!t) return ipsec_mb_arch::best;
  switch (t->best->used_arch) {
    case IMB_ARCH_SSE: return ipsec_mb_arch::sse;
    case IMB_ARCH_AVX2: return ipsec_mb_arch::avx2;
    case IMB_ARCH_AVX512: return ipsec_mb_arch::avx512;
    default: return ipsec_mb_arch::best;
  }
}

struct ipsec_mb_backend_inspect;  // tests: reads the CBC IV key to check make_iv's batches against another AES

class ipsec_mb_backend {
  friend struct ipsec_mb_backend_inspect;
 public:
  static constexpr std::string_view name = "ipsec_mb";
  static constexpr std::size_t max_burst = detail::imb_thread::max_burst;
  static constexpr std::size_t multi_buffer_from = 4;  // packets in a call from which the multi-buffer manager wins

  // An allow-list, every enumerator named (-Wswitch flags one that is added and not decided).
  static constexpr bool supports(const esp_suite& s) noexcept {
    if (!s.valid()) return false;
    switch (s.cipher) {
      case cipher_id::des3_cbc:  // RFC 8221 MUST NOT: sizing only
        return false;
      case cipher_id::aes192_ccm_8: case cipher_id::aes192_ccm_12: case cipher_id::aes192_ccm_16:
        return false;  // intel-ipsec-mb 1.3's CCM job takes 128- and 256-bit keys only
      case cipher_id::null:
      case cipher_id::aes128_cbc: case cipher_id::aes192_cbc: case cipher_id::aes256_cbc:
      case cipher_id::aes128_ctr: case cipher_id::aes192_ctr: case cipher_id::aes256_ctr:
      case cipher_id::aes128_gcm_8: case cipher_id::aes128_gcm_12: case cipher_id::aes128_gcm_16:
      case cipher_id::aes192_gcm_8: case cipher_id::aes192_gcm_12: case cipher_id::aes192_gcm_16:
      case cipher_id::aes256_gcm_8: case cipher_id::aes256_gcm_12: case cipher_id::aes256_gcm_16:
      case cipher_id::aes128_ccm_8: case cipher_id::aes128_ccm_12: case cipher_id::aes128_ccm_16:
      case cipher_id::aes256_ccm_8: case cipher_id::aes256_ccm_12: case cipher_id::aes256_ccm_16:
      case cipher_id::aes128_gmac: case cipher_id::aes192_gmac: case cipher_id::aes256_gmac:
      case cipher_id::chacha20_poly1305:
        break;
    }
    switch (s.integ) {
      case integ_id::unspecified: case integ_id::none:
      case integ_id::hmac_md5_96: case integ_id::hmac_sha1_96: case integ_id::aes_xcbc_96: case integ_id::aes_cmac_96:
      case integ_id::hmac_sha256_128: case integ_id::hmac_sha384_192: case integ_id::hmac_sha512_256:
        return true;
    }
    return false;
  }

  // Every length is checked before anything is expanded; the key schedule and the salt
  // wipe themselves when they go, on every path (a throw included).
  ipsec_mb_backend(const ipsec_mb_backend&) = delete;
  ipsec_mb_backend& operator=(const ipsec_mb_backend&) = delete;
  ipsec_mb_backend(const esp_suite& s, const esp_keys& keys)
      : suite_((check_setup<ipsec_mb_backend>(s, keys), s)), hash_(hash_alg(s.integ)), k_(new key_schedule) {
    detail::imb_thread* t = detail::imb_thread::get();
    if (!t) throw std::runtime_error("ipsec_mb backend: no job manager (out of memory, or no usable CPU architecture)");
    const cipher_info& c = s.c();
    IMB_MGR* m = t->best;
    arch_ = m->used_arch;
    const std::uint8_t* key = keys.encryption.data();
    if (c.salt_size) std::memcpy(salt_.data(), key + c.key_size, c.salt_size);
    switch (c.mode) {
      case cipher_mode::gcm:
      case cipher_mode::gmac:
        switch (aes_key_bits(c)) {
          case 128:
            IMB_AES128_GCM_PRE(m, key, &k_->gcm);
            gcm_enc_ = m->gcm128_enc, gcm_dec_ = m->gcm128_dec;
            break;
          case 192:
            IMB_AES192_GCM_PRE(m, key, &k_->gcm);
            gcm_enc_ = m->gcm192_enc, gcm_dec_ = m->gcm192_dec;
            break;
          default:
            IMB_AES256_GCM_PRE(m, key, &k_->gcm);
            gcm_enc_ = m->gcm256_enc, gcm_dec_ = m->gcm256_dec;
            break;
        }
        return;
      case cipher_mode::chacha20_poly1305:
        std::memcpy(k_->chacha, key, 32);
        return;
      case cipher_mode::cbc: {  // the CBC IV key (cbc_iv_block)
        secret_bytes<16> r;
        random_bytes(r.data(), 16);
        IMB_AES_KEYEXP_128(m, r.data(), k_->iv_enc, k_->scratch_dec);
        aes_expand(m, c, key);
        break;
      }
      case cipher_mode::ctr:
      case cipher_mode::ccm:
        aes_expand(m, c, key);
        break;
      case cipher_mode::none:
        break;
    }
    const std::uint8_t* ik = keys.integrity.data();
    switch (c.aead ? integ_id::unspecified : s.integ) {
      case integ_id::unspecified:
      case integ_id::none:
        break;
      case integ_id::aes_cmac_96:  // RFC 4494: AES-128 with subkeys K1, K2
        IMB_AES_KEYEXP_128(m, ik, k_->mac_key, k_->scratch_dec);
        IMB_AES_CMAC_SUBKEY_GEN_128(m, k_->mac_key, k_->k2, k_->k3);
        break;
      case integ_id::aes_xcbc_96:  // RFC 3566: K1 expanded, K2, K3
        IMB_AES_XCBC_KEYEXP(m, ik, k_->mac_key, k_->k2, k_->k3);
        break;
      case integ_id::hmac_md5_96:
      case integ_id::hmac_sha1_96:
      case integ_id::hmac_sha256_128:
      case integ_id::hmac_sha384_192:
      case integ_id::hmac_sha512_256:
        hmac_precompute(m, keys.integrity);
        break;
    }
  }

  void make_iv(std::uint64_t seq, byte_span out) noexcept {
    if (out.empty()) return;
    if (direct_ != direct_kind::none || suite_.c().mode != cipher_mode::cbc) return counter_iv(seq, out);
    detail::imb_thread* t = detail::imb_thread::get();
    if (!t) return counter_iv(seq, out);  // (no managers: seal fails, the IV is never sent)
    if (cbc_ivs_.make(seq, out, [&](std::uint8_t* blocks, std::size_t n) { return ecb_iv_blocks(t->jobs, blocks, n); })) return;
    alignas(16) std::array<std::uint8_t, 16> block = cbc_iv_block(seq), zero{}, iv{};  // (the job failed: one block)
    IMB_AES128_CFB_ONE(t->jobs, iv.data(), zero.data(), block.data(), k_->iv_enc, 16);  // = AES(block)
    std::memcpy(out.data(), iv.data(), out.size() < 16 ? out.size() : 16);
  }

  // Whether a burst of this SA's packets beats one call each: the job API's multi-buffer
  // lanes do; the AEADs' direct API is one packet per call either way.
  bool interleaves() const noexcept { return direct_ == direct_kind::none; }
  // Sealing, a burst framed first, sealed in one pass, then given its outer layers beats
  // one packet at a time with every suite, the AEADs' one call per packet included: the
  // seals run back to back, as the cipher alone does (64-byte AES-256-GCM bursts of 32:
  // 57.5 -> 47.5 ns a packet). Opening that way does not (the same packets: 40 -> 59 ns).
  bool interleaves_seal() const noexcept { return true; }

  errc seal(const esp_packet_view& v) noexcept { return one(v, true); }
  errc open(const esp_packet_view& v) noexcept { return one(v, false); }

  // One result per packet in `out` (out.size() >= v.size()).
  void seal_burst(std::span<const esp_packet_view> v, std::span<errc> out) noexcept { run(v, out, true); }
  void open_burst(std::span<const esp_packet_view> v, std::span<errc> out) noexcept { run(v, out, false); }

 private:
  // Key material, allocated once: 16-byte alignment for the AES schedules, 64 for GCM.
  struct alignas(64) key_schedule {
    gcm_key_data gcm;
    std::uint8_t enc[16 * 15], dec[16 * 15];         // AES-128/192/256 round keys
    std::uint8_t iv_enc[16 * 11], scratch_dec[16 * 15];
    std::uint8_t mac_key[16 * 11], k2[16], k3[16];   // CMAC: K, K1, K2; XCBC: K1 expanded, K2, K3
    std::uint8_t ipad[64], opad[64];                 // HMAC: hash state after (K ^ ipad), (K ^ opad)
    std::uint8_t chacha[32];
  };
  struct wipe_delete {
    void operator()(key_schedule* k) const noexcept {
      secure_wipe(k, sizeof(key_schedule));
      delete k;
    }
  };

  void aes_expand(IMB_MGR* m, const cipher_info& c, const std::uint8_t* key) const {
    switch (aes_key_bits(c)) {
      case 128: IMB_AES_KEYEXP_128(m, key, k_->enc, k_->dec); break;
      case 192: IMB_AES_KEYEXP_192(m, key, k_->enc, k_->dec); break;
      default: IMB_AES_KEYEXP_256(m, key, k_->enc, k_->dec); break;
    }
  }
  using slot = detail::imb_thread::slot;

  // make_iv's batch of CBC IV blocks, AES-128 under the IV key in one ECB job (one
  // single-block call a packet cost more than the rest of a 64-byte encap's bookkeeping).
  bool ecb_iv_blocks(IMB_MGR* m, std::uint8_t* blocks, std::size_t n) noexcept {
    IMB_JOB* j = IMB_GET_NEXT_JOB(m);
    j->cipher_mode = IMB_CIPHER_ECB;
    j->cipher_direction = IMB_DIR_ENCRYPT;
    j->chain_order = IMB_ORDER_CIPHER_HASH;
    j->hash_alg = IMB_AUTH_NULL;
    j->key_len_in_bytes = 16;
    j->enc_keys = k_->iv_enc;
    j->dec_keys = k_->scratch_dec;
    j->src = blocks;
    j->dst = blocks;
    j->cipher_start_src_offset_in_bytes = 0;
    j->msg_len_to_cipher_in_bytes = 16 * n;
    j->iv = nullptr;
    j->iv_len_in_bytes = 0;
    j->hash_start_src_offset_in_bytes = 0;
    j->msg_len_to_hash_in_bytes = 0;
    j->auth_tag_output = nullptr;
    j->auth_tag_output_len_in_bytes = 0;
    IMB_JOB* done = IMB_SUBMIT_JOB(m);
    if (!done) done = IMB_FLUSH_JOB(m);
    return done && done->status == IMB_STATUS_COMPLETED;
  }


  // RFC 2104: the hash state after one block of K ^ 0x36.. and of K ^ 0x5c.., which the
  // job API continues from (ESP keys are never longer than the hash block).
  void hmac_precompute(IMB_MGR* m, const_byte_span key) {
    const integ_id id = suite_.integ;
    const std::size_t block = id == integ_id::hmac_sha384_192 || id == integ_id::hmac_sha512_256 ? 128 : 64;
    if (key.size() > block) throw std::invalid_argument("HMAC key longer than the hash block");
    secret_bytes<128> b;
    for (const auto& [pad, out] : {std::pair{std::uint8_t{0x36}, k_->ipad}, std::pair{std::uint8_t{0x5c}, k_->opad}}) {
      std::memset(b.data(), pad, 128);
      for (std::size_t i = 0; i < key.size(); ++i) b.data()[i] = static_cast<std::uint8_t>(key[i] ^ pad);
      switch (id) {
        case integ_id::hmac_md5_96: IMB_MD5_ONE_BLOCK(m, b.data(), out); break;
        case integ_id::hmac_sha1_96: IMB_SHA1_ONE_BLOCK(m, b.data(), out); break;
        case integ_id::hmac_sha256_128: IMB_SHA256_ONE_BLOCK(m, b.data(), out); break;
        case integ_id::hmac_sha384_192: IMB_SHA384_ONE_BLOCK(m, b.data(), out); break;
        case integ_id::hmac_sha512_256: IMB_SHA512_ONE_BLOCK(m, b.data(), out); break;
        case integ_id::unspecified: case integ_id::none: case integ_id::aes_xcbc_96: case integ_id::aes_cmac_96:
          throw std::invalid_argument("ipsec_mb backend: not an HMAC");
      }
    }
  }

  // The job API's integrity algorithm (IMB_AUTH_NULL: none, or the AEADs' own).
  static IMB_HASH_ALG hash_alg(integ_id i) noexcept {
    switch (i) {
      case integ_id::unspecified: case integ_id::none: return IMB_AUTH_NULL;
      case integ_id::hmac_md5_96: return IMB_AUTH_MD5;
      case integ_id::hmac_sha1_96: return IMB_AUTH_HMAC_SHA_1;
      case integ_id::hmac_sha256_128: return IMB_AUTH_HMAC_SHA_256;
      case integ_id::hmac_sha384_192: return IMB_AUTH_HMAC_SHA_384;
      case integ_id::hmac_sha512_256: return IMB_AUTH_HMAC_SHA_512;
      case integ_id::aes_cmac_96: return IMB_AUTH_AES_CMAC;
      case integ_id::aes_xcbc_96: return IMB_AUTH_AES_XCBC;
    }
    return IMB_AUTH_NULL;
  }

  // One packet: the AEADs straight to their direct call, without the burst loop.
  errc one(const esp_packet_view& v, bool encrypt) noexcept {
    if (direct_ == direct_kind::gcm) return gcm(v, encrypt);
    if (direct_ != direct_kind::none) {
      detail::imb_thread* t = detail::imb_thread::get();
      return t && t->best->used_arch == arch_ ? aead_direct(t->best, v, encrypt) : errc::crypto_failure;
    }
    return one_job(v, encrypt);
  }
  // (out of line: the address it takes would keep the caller's view in memory)
  [[gnu::noinline]] errc one_job(esp_packet_view v, bool encrypt) noexcept {
    errc r = errc::ok;
    run({&v, 1}, {&r, 1}, encrypt);
    return r;
  }

  void run(std::span<const esp_packet_view> v, std::span<errc> out, bool encrypt) noexcept {
    if (direct_ == direct_kind::gcm) {
      for (std::size_t i = 0; i < v.size(); ++i) out[i] = gcm(v[i], encrypt);
      return;
    }
    detail::imb_thread* t = detail::imb_thread::get();
    if (!t) {
      std::fill_n(out.begin(), v.size(), errc::crypto_failure);
      return;
    }
    if (direct_ != direct_kind::none) {  // one direct call each
      const bool same_code = t->best->used_arch == arch_;
      for (std::size_t i = 0; i < v.size(); ++i) out[i] = same_code ? aead_direct(t->best, v[i], encrypt) : errc::crypto_failure;
      return;
    }
    // One packet: the SHA-NI manager (SSE) hashes it fastest. Several: with AVX-512, its
    // 16 multi-buffer lanes run them side by side (6.6x one at a time, CBC + HMAC-SHA1).
    IMB_MGR* m = v.size() >= multi_buffer_from ? t->bursts : t->jobs;
    for (std::size_t base = 0; base < v.size(); base += max_burst) {
      const std::size_t n = std::min(max_burst, v.size() - base);
      auto complete = [&](IMB_JOB* j) {
        const auto i = reinterpret_cast<std::uintptr_t>(j->user_data);
        out[base + i] = finish(j, v[base + i], encrypt, t->slots[i]);
      };
      for (std::size_t i = 0; i < n; ++i) {
        IMB_JOB* j = IMB_GET_NEXT_JOB(m);
        fill(j, v[base + i], encrypt, t->slots[i]);
        j->user_data = reinterpret_cast<void*>(static_cast<std::uintptr_t>(i));
        for (j = IMB_SUBMIT_JOB(m); j; j = IMB_GET_COMPLETED_JOB(m)) complete(j);
      }
      while (IMB_JOB* j = IMB_FLUSH_JOB(m)) complete(j);
    }
  }

  // One ESP packet as a job: cipher over the body, integrity over SPI .. ciphertext
  // (RFC 4303 §3.3.2), the ICV after it. With ESN the high sequence bits are hashed after
  // the ciphertext (§3.3.2.1): they are written where the ICV goes for the job's duration.
  void fill(IMB_JOB* j, const esp_packet_view& v, bool encrypt, slot& s) noexcept {
    const cipher_info& c = suite_.c();
    std::uint8_t* p = v.packet.data();
    j->src = p;
    j->dst = v.body();
    j->cipher_start_src_offset_in_bytes = 8 + v.iv_size;
    j->msg_len_to_cipher_in_bytes = v.body_size();
    j->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
    j->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
    j->key_len_in_bytes = c.key_size;
    j->enc_keys = k_->enc;
    j->dec_keys = k_->dec;
    j->hash_start_src_offset_in_bytes = 0;
    j->msg_len_to_hash_in_bytes = v.authenticated_size();
    j->auth_tag_output = (encrypt && !v.esn) ? v.icv() : s.tag.data();
    j->auth_tag_output_len_in_bytes = v.icv_size;
    j->hash_alg = hash_;
    s.seq_hi_in_icv = false;
    switch (c.mode) {
      case cipher_mode::cbc:
        j->cipher_mode = IMB_CIPHER_CBC;
        j->iv = v.iv();
        j->iv_len_in_bytes = 16;
        break;
      case cipher_mode::ctr:  // RFC 3686 §4: nonce || IV, the library appends the block counter 1
        std::memcpy(s.nonce.data(), salt_.data(), 4);
        std::memcpy(s.nonce.data() + 4, v.iv(), 8);
        j->cipher_mode = IMB_CIPHER_CNTR;
        j->iv = s.nonce.data();
        j->iv_len_in_bytes = 12;
        break;
      case cipher_mode::ccm: {  // RFC 4309: nonce = salt(3) || IV(8), AAD as GCM's; MAC first on encrypt
        std::memcpy(s.nonce.data(), salt_.data(), 3);
        std::memcpy(s.nonce.data() + 3, v.iv(), 8);
        j->cipher_mode = IMB_CIPHER_CCM;
        j->iv = s.nonce.data();
        j->iv_len_in_bytes = 11;
        j->hash_alg = IMB_AUTH_AES_CCM;
        j->chain_order = encrypt ? IMB_ORDER_HASH_CIPHER : IMB_ORDER_CIPHER_HASH;
        j->hash_start_src_offset_in_bytes = j->cipher_start_src_offset_in_bytes;
        j->msg_len_to_hash_in_bytes = v.body_size();
        j->auth_tag_output = encrypt ? v.icv() : s.tag.data();
        j->u.CCM.aad = s.aad.data();
        j->u.CCM.aad_len_in_bytes = esp_aad(v, s.aad);
        return;
      }
      case cipher_mode::none:
        j->cipher_mode = IMB_CIPHER_NULL;
        break;
      case cipher_mode::gcm: case cipher_mode::gmac: case cipher_mode::chacha20_poly1305:
        break;  // the direct API (direct_): never a job
    }
    switch (suite_.integ) {
      case integ_id::unspecified:
      case integ_id::none:
        return;
      case integ_id::aes_cmac_96:
        j->u.CMAC._key_expanded = k_->mac_key;
        j->u.CMAC._skey1 = k_->k2;
        j->u.CMAC._skey2 = k_->k3;
        break;
      case integ_id::aes_xcbc_96:
        j->u.XCBC._k1_expanded = reinterpret_cast<const std::uint32_t*>(k_->mac_key);
        j->u.XCBC._k2 = k_->k2;
        j->u.XCBC._k3 = k_->k3;
        break;
      case integ_id::hmac_md5_96: case integ_id::hmac_sha1_96:
      case integ_id::hmac_sha256_128: case integ_id::hmac_sha384_192: case integ_id::hmac_sha512_256:
        j->u.HMAC._hashed_auth_key_xor_ipad = k_->ipad;
        j->u.HMAC._hashed_auth_key_xor_opad = k_->opad;
    }
    if (v.esn) {
      if (!encrypt) std::memcpy(s.saved.data(), v.icv(), v.icv_size);
      store_be32(v.icv(), v.seq_hi);
      j->msg_len_to_hash_in_bytes += 4;
      s.seq_hi_in_icv = true;
    }
  }

  errc finish(const IMB_JOB* j, const esp_packet_view& v, bool encrypt, const slot& s) noexcept {
    const bool esn = s.seq_hi_in_icv;
    if (encrypt) {
      if (esn) std::memcpy(v.icv(), s.tag.data(), v.icv_size);
      return j->status == IMB_STATUS_COMPLETED ? errc::ok : errc::crypto_failure;
    }
    if (esn) std::memcpy(v.icv(), s.saved.data(), v.icv_size);  // the received ICV back in place
    if (j->status == IMB_STATUS_COMPLETED && ct_equal(s.tag.data(), v.icv(), v.icv_size)) return errc::ok;
    secure_wipe(v.body(), v.body_size());  // decrypted while verifying: release nothing
    return j->status == IMB_STATUS_COMPLETED ? errc::esp_bad_icv : errc::crypto_failure;
  }

  // The AEADs' nonce, salt || IV (RFC 4106 §4, RFC 4543 §3.1, RFC 7634 §2), and AAD, SPI ||
  // sequence number (RFC 4106 §5), with ESN SPI || high || low bits (§5, RFC 4303 §2.2.1).
  // Each is written here in one 16-byte store: intel-ipsec-mb reads nonce and AAD with one
  // masked 16-byte load each, which store forwarding serves only from a single store that
  // covers it. Built from smaller stores, the load waits for them to reach the cache, and
  // the whole cipher with it: the nonce from 4 + 8 bytes cost 64-byte AES-GCM encap 60.5 ->
  // 56.3 ns; the AAD read in place just after an 8-byte store of the ESP header cost
  // encap-bench's floor 47.7 -> 54.5 ns (docs/performance.md, "The floor").
  struct aead_input {
    alignas(16) std::array<std::uint8_t, 16> nonce, aad;  // written before they are read
    std::size_t aad_len;
    aead_input(const esp_packet_view& v, const secret_bytes<4>& salt) noexcept : aad_len(v.esn ? 12 : 8) {
      const std::uint64_t iv = load_ne<std::uint64_t>(v.iv());
      store16(nonce.data(), load_ne<std::uint32_t>(salt.data()) | iv << 32, iv >> 32);
      const std::uint8_t* h = v.packet.data();  // SPI, sequence number's low half
      if (v.esn)
        store16(aad.data(), load_ne<std::uint32_t>(h) | std::uint64_t{__builtin_bswap32(v.seq_hi)} << 32,
                load_ne<std::uint32_t>(h + 4));
      else
        store16(aad.data(), load_ne<std::uint64_t>(h), 0);
    }
    template <class T>
    static T load_ne(const std::uint8_t* p) noexcept {  // in the machine's byte order
      T x;
      std::memcpy(&x, p, sizeof x);
      return x;
    }
    static void store16(std::uint8_t* p, std::uint64_t lo, std::uint64_t hi) noexcept {  // bytes 0-7: lo (x86: little-endian)
      using u64x2 = unsigned long long __attribute__((vector_size(16)));
      const u64x2 w{lo, hi};
      std::memcpy(p, &w, 16);
    }
  };

  // AES-GCM: one call each way to the entry chosen when the SA was built; the tag is
  // checked after decryption, and the payload wiped if it fails.
  errc gcm(const esp_packet_view& v, bool encrypt) noexcept {
    const aead_input in(v, salt_);
    std::array<std::uint8_t, 16> tag;
    std::uint8_t* b = v.body();
    const std::size_t n = v.body_size();
    if (encrypt) {
      gcm_enc_(&k_->gcm, &gcm_ctx_, b, b, n, in.nonce.data(), in.aad.data(), in.aad_len, v.icv(), v.icv_size);
      return errc::ok;
    }
    gcm_dec_(&k_->gcm, &gcm_ctx_, b, b, n, in.nonce.data(), in.aad.data(), in.aad_len, tag.data(), v.icv_size);
    if (tag_matches(tag, v)) return errc::ok;
    secure_wipe(b, n);  // decrypted while authenticating: release nothing
    return errc::esp_bad_icv;
  }

  // AES-GMAC and ChaCha20-Poly1305: one direct call each way; the tag is checked after
  // decryption in the same call, and the payload wiped if it fails.
  errc aead_direct(IMB_MGR* m, const esp_packet_view& v, bool encrypt) noexcept {
    const aead_input in(v, salt_);
    std::array<std::uint8_t, 16> tag{};
    std::uint8_t* b = v.body();
    const std::size_t n = v.body_size();
    std::uint8_t* t = encrypt ? v.icv() : tag.data();
    const std::uint8_t* iv = in.nonce.data();
    switch (direct_) {
      case direct_kind::gmac: {  // RFC 4543 §3.3-3.5: SPI .. trailer is all AAD, nothing is encrypted
        // with ESN the AAD is SPI || Seq high || Seq low || IV || ...: its first 16 bytes
        // from here, the rest in place
        std::array<std::uint8_t, 16> first{};
        const std::uint8_t* rest = v.packet.data();
        std::size_t rest_len = 8 + v.iv_size + n;
        if (v.esn) {
          std::memcpy(first.data(), in.aad.data(), 12);
          std::memcpy(first.data() + 12, v.iv(), 4);
          rest = v.iv() + 4;
          rest_len = v.iv_size - 4 + n;
        }
        gmac(m, iv, v.esn ? first.data() : nullptr, rest, rest_len, t);
        if (encrypt) return errc::ok;
        return tag_matches(tag, v) ? errc::ok : errc::esp_bad_icv;
      }
      case direct_kind::chacha_poly: {
        const std::uint8_t* key = k_->chacha;
        IMB_CHACHA20_POLY1305_INIT(m, key, &chacha_ctx_, iv, in.aad.data(), in.aad_len);
        if (encrypt) IMB_CHACHA20_POLY1305_ENC_UPDATE(m, key, &chacha_ctx_, b, b, n);
        else IMB_CHACHA20_POLY1305_DEC_UPDATE(m, key, &chacha_ctx_, b, b, n);
        IMB_CHACHA20_POLY1305_ENC_FINALIZE(m, &chacha_ctx_, t, v.icv_size);  // the same finalize for both directions
        break;
      }
      case direct_kind::gcm:
      case direct_kind::none:
        return errc::crypto_failure;  // gcm() and the job API: never here
    }
    if (encrypt || tag_matches(tag, v)) return errc::ok;
    secure_wipe(b, n);  // decrypted while authenticating: release nothing
    return errc::esp_bad_icv;
  }

  void gmac(IMB_MGR* m, const std::uint8_t* iv, const std::uint8_t* first16, const std::uint8_t* rest, std::size_t rest_len,
            std::uint8_t* tag) noexcept {
    const gcm_key_data* g = &k_->gcm;
    switch (suite_.c().key_size) {
      case 16:
        IMB_AES128_GMAC_INIT(m, g, &gcm_ctx_, iv, 12);
        if (first16) IMB_AES128_GMAC_UPDATE(m, g, &gcm_ctx_, first16, 16);
        IMB_AES128_GMAC_UPDATE(m, g, &gcm_ctx_, rest, rest_len);
        IMB_AES128_GMAC_FINALIZE(m, g, &gcm_ctx_, tag, 16);
        break;
      case 24:
        IMB_AES192_GMAC_INIT(m, g, &gcm_ctx_, iv, 12);
        if (first16) IMB_AES192_GMAC_UPDATE(m, g, &gcm_ctx_, first16, 16);
        IMB_AES192_GMAC_UPDATE(m, g, &gcm_ctx_, rest, rest_len);
        IMB_AES192_GMAC_FINALIZE(m, g, &gcm_ctx_, tag, 16);
        break;
      default:
        IMB_AES256_GMAC_INIT(m, g, &gcm_ctx_, iv, 12);
        if (first16) IMB_AES256_GMAC_UPDATE(m, g, &gcm_ctx_, first16, 16);
        IMB_AES256_GMAC_UPDATE(m, g, &gcm_ctx_, rest, rest_len);
        IMB_AES256_GMAC_FINALIZE(m, g, &gcm_ctx_, tag, 16);
    }
  }

  esp_suite suite_;
  IMB_HASH_ALG hash_;  // the job API's integrity algorithm, chosen once
  // The code path the SA was built on: GMAC's key data is laid out per path, so a thread on
  // another one (set_ipsec_mb_arch) gets crypto_failure, never wrong bytes. (AES-GCM calls
  // the building path's own entries, below, from any thread.)
  std::uint32_t arch_ = 0;
  std::unique_ptr<key_schedule, wipe_delete> k_;
  gcm_context_data gcm_ctx_{};
  chacha20_poly1305_context_data chacha_ctx_{};
  secret_bytes<4> salt_;
  cbc_iv_batch cbc_ivs_;  // make_iv's next CBC IVs
  // Chosen when the SA is built, not per packet: which direct call (none: the job API),
  // and AES-GCM's entries for the key size.
  enum class direct_kind : std::uint8_t { none, gcm, gmac, chacha_poly };
  direct_kind direct_ = suite_.c().mode == cipher_mode::gcm                 ? direct_kind::gcm
                        : suite_.c().mode == cipher_mode::gmac              ? direct_kind::gmac
                        : suite_.c().mode == cipher_mode::chacha20_poly1305 ? direct_kind::chacha_poly
                                                                           : direct_kind::none;
  // AES-GCM's entries of the building thread's code path, for the key data laid out for it:
  // called from any thread without a manager (its direct API needs none)
  aes_gcm_enc_dec_t gcm_enc_ = nullptr;
  aes_gcm_enc_dec_t gcm_dec_ = nullptr;
};

static_assert(esp_burst_backend<ipsec_mb_backend>);

}  // namespace v0
}  // namespace encap
