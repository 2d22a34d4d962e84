// encap-bench — the hot crypto path against the raw cipher, measured in the same run.
//
// Names: <backend>/<operation>/<suite>/<bytes>, e.g. botan/encap/aes-256-gcm-16/1414.
//   raw           the backend's cipher + MAC alone over the bytes encap encrypts, where
//                 encap's ESP packet lies (baseline)
//   encap         the reference stack IPv4 / ESP tunnel / IPv4 / GRE, in place
//   raw-open      the backend's verify + decrypt alone over the same bytes, where decap's
//                 ESP packet lies (baseline for decap)
//   decap         the reference stack, in place
//   decap-forged  the same packet with one ICV bit flipped
//   encap-vs-raw, decap-vs-raw-open, forged-vs-decap: the ratio of two of the above,
//                 timed in alternating batches in one benchmark (counter "ratio",
//                 time of the second / time of the first), robust to the VM's drift
//   rt-encap, rt-decap  the same stack through the run-time endpoint (runtime_endpoint.hpp:
//                 built from a spec string, inbound SA found in an SA table)
//   runtime-vs-typed-encap, runtime-vs-typed-decap: paired ratio, typed time / run-time
//                 time (1.0: the run-time endpoint is as fast)
//   floor         (intel-ipsec-mb AES-GCM) the reference stack encapsulated by ~70 lines
//                 written for it alone: the least work any encapsulator of it does, its
//                 packets checked byte for byte against encap's before timing
//   floor-vs-raw, encap-vs-floor: paired ratios; floor-vs-raw is the most encap-vs-raw
//                 can reach on this CPU with one packet per call
//   floor-decap   the same for decap: outer IPv4, SPI, a 64-packet window, ICV, padding,
//                 delivery IPv4 and GRE, the inner header, RFC 6040; it opens encap's
//                 packets to their inner bytes and refuses a forged and a replayed one
//                 before timing. floor-decap-vs-raw-open, decap-vs-floor-decap: paired
//   sa_table/find/N  one SPI lookup in a table of N SAs (random SPIs, all present)
//   burst-encap   encap_burst of N packets vs N single encaps (single-encap; name ends /N)
//   burst-decap   decap_burst of N packets vs N single decaps (single-decap)
//   encap-vs-dpdk/<outbound|inbound>/<cpu-crypto|lookaside>/burst<N>/<suite>/<size>:
//                 DPDK's librte_ipsec and encap's typed endpoint (ipsec-mb) on the same
//                 packets, IPv4 / ESP tunnel / IPv4, anti-replay on; counters ratio (DPDK
//                 time / encap time), dpdk_ns, encap_ns, and the floor: crypto_ns (the same
//                 ESP packets through the SA's crypto alone, in the same calls) and
//                 floor_ratio (DPDK time / that: the most any encapsulator over this
//                 intel-ipsec-mb could reach) (built with libdpdk-dev present)
// Bytes are inner-packet bytes; IMIX is 7:4:1 of 64/576/1500-byte packets.
// Counters: bytes_per_second (SetBytesProcessed) and packets (per second).
// --ipsec_mb_arch=sse|avx2|avx512 (before Google Benchmark's flags are read): the code path
// intel-ipsec-mb runs for encap and for its raw baseline, reported as context ipsec_mb_arch
// (DPDK's PMD picks its own: encap-vs-dpdk is like for like only without the flag).
#include <benchmark/benchmark.h>

#include <encap/crypto/botan.hpp>
#include <encap/encap.hpp>
#include <encap/endpoint.hpp>
#include <encap/runtime_endpoint.hpp>
#include <encap/sa_table.hpp>
#ifdef ENCAP_HAVE_IPSEC_MB
#include <encap/crypto/ipsec_mb.hpp>
#endif
#ifdef ENCAP_BENCH_DPDK
#include "dpdk_ipsec.hpp"
#endif

#include <botan/aead.h>
#include <botan/cipher_mode.h>
#include <botan/mac.h>
#include <botan/version.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

// Heap bytes allocated, to report the memory an SA holds.
namespace {
std::atomic<long> heap_bytes{0};
}
void* operator new(std::size_t n) {
  heap_bytes.fetch_add(static_cast<long>(n), std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
  heap_bytes.fetch_add(static_cast<long>(n), std::memory_order_relaxed);
  const std::size_t al = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }

using namespace encap;

namespace {

const std::vector<std::size_t> imix = {64, 64, 64, 64, 64, 64, 64, 576, 576, 576, 576, 1500};

std::vector<std::uint8_t> key(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> k(n);
  for (std::size_t i = 0; i < n; ++i) k[i] = static_cast<std::uint8_t>(seed + i * 7);
  return k;
}

void write_inner(std::uint8_t* p, std::size_t n) {
  write_ipv4(p, n, {{192, 168, 1, 10}, {192, 168, 2, 20}, 0, 64, ip_proto::udp, 1, true});
}

// The inner IPv4 header for each size, prebuilt: restoring it costs one 20-byte copy.
struct inner_headers {
  std::vector<std::array<std::uint8_t, 20>> h;
  explicit inner_headers(const std::vector<std::size_t>& sizes) {
    for (auto n : sizes) { std::array<std::uint8_t, 20> a{}; write_inner(a.data(), n); h.push_back(a); }
  }
};

// ---- raw baselines: each library used directly, the most efficient way we know -----------

struct botan_raw {
#if BOTAN_VERSION_MAJOR >= 3
  static constexpr Botan::Cipher_Dir encryption = Botan::Cipher_Dir::Encryption, decryption = Botan::Cipher_Dir::Decryption;
#else
  static constexpr Botan::Cipher_Dir encryption = Botan::ENCRYPTION, decryption = Botan::DECRYPTION;
#endif
  esp_suite s;
  std::unique_ptr<Botan::AEAD_Mode> enc, dec;
  std::unique_ptr<Botan::Cipher_Mode> cbc_enc, cbc_dec;
  std::unique_ptr<Botan::MessageAuthenticationCode> mac;
  Botan::secure_vector<std::uint8_t> tail;
  std::size_t gran = 1;

  botan_raw(const esp_suite& suite, const esp_keys& k) : s(suite) {
    const std::string aes = "AES-" + std::to_string(s.c().key_size * 8);
    if (s.c().aead) {
      const std::string algo = s.c().mode == cipher_mode::chacha20_poly1305 ? "ChaCha20Poly1305" : aes + "/GCM(" + std::to_string(s.c().icv_size) + ")";
      enc = Botan::AEAD_Mode::create_or_throw(algo, encryption);
      dec = Botan::AEAD_Mode::create_or_throw(algo, decryption);
      enc->set_key(k.encryption.data(), s.c().key_size);
      dec->set_key(k.encryption.data(), s.c().key_size);
      gran = enc->update_granularity();
      tail.reserve(256);
    } else {
      if (s.c().mode == cipher_mode::cbc) {
        cbc_enc = Botan::Cipher_Mode::create_or_throw(aes + "/CBC/NoPadding", encryption);
        cbc_dec = Botan::Cipher_Mode::create_or_throw(aes + "/CBC/NoPadding", decryption);
        cbc_enc->set_key(k.encryption.data(), s.c().key_size);
        cbc_dec->set_key(k.encryption.data(), s.c().key_size);
      }
      const auto i = s.integ;
      mac = Botan::MessageAuthenticationCode::create_or_throw(i == integ_id::hmac_sha1_96 ? "HMAC(SHA-1)" : "HMAC(SHA-256)");
      mac->set_key(k.integrity.data(), k.integrity.size());
    }
  }
  // p: [8 header][iv][n body][icv]
  void seal(std::uint8_t* p, std::size_t n) {
    const std::size_t iv = s.iv_size(), icv = s.icv_size();
    std::uint8_t* body = p + 8 + iv;
    if (enc) {
      std::uint8_t nonce[12] = {1, 2, 3, 4};
      std::memcpy(nonce + 4, p + 8, 8);
      enc->set_associated_data(p, 8);
      enc->start(nonce, 12);
      const std::size_t bulk = n - n % gran;
      enc->process(body, bulk);
      tail.assign(body + bulk, body + n);
      enc->finish(tail, 0);
      std::memcpy(body + bulk, tail.data(), tail.size());
      return;
    }
    if (cbc_enc) { cbc_enc->start(p + 8, 16); cbc_enc->process(body, n); }
    std::uint8_t out[64];
    mac->update(p, 8 + iv + n);
    mac->final(out);
    std::memcpy(body + n, out, icv);
  }
  bool open(std::uint8_t* p, std::size_t n) {
    const std::size_t iv = s.iv_size(), icv = s.icv_size();
    std::uint8_t* body = p + 8 + iv;
    if (dec) {
      std::uint8_t nonce[12] = {1, 2, 3, 4};
      std::memcpy(nonce + 4, p + 8, 8);
      dec->set_associated_data(p, 8);
      dec->start(nonce, 12);
      const std::size_t bulk = n - n % gran;
      dec->process(body, bulk);
      tail.assign(body + bulk, body + n + icv);
      try { dec->finish(tail, 0); } catch (const Botan::Invalid_Authentication_Tag&) { return false; }
      std::memcpy(body + bulk, tail.data(), n - bulk);
      return true;
    }
    std::uint8_t out[64];
    mac->update(p, 8 + iv + n);
    mac->final(out);
    if (!ct_equal(out, body + n, icv)) return false;
    if (cbc_dec) { cbc_dec->start(p + 8, 16); cbc_dec->process(body, n); }
    return true;
  }
};

#ifdef ENCAP_HAVE_IPSEC_MB
// AEADs through the direct API on the CPU's best manager; CBC/NULL + HMAC as one chained
// job (cipher then hash on seal, hash then cipher on open), submitted and flushed on an
// SSE manager (SHA-NI: a lone job is not spread over idle lanes).
struct ipsec_mb_raw {
  esp_suite s;
  IMB_MGR* mgr;
  gcm_key_data* gk = nullptr;
  gcm_context_data ctx{};
  chacha20_poly1305_context_data cctx{};
  std::uint8_t ckey[32]{};
  alignas(16) std::uint8_t enc[240]{}, dec[240]{}, ipad[64]{}, opad[64]{}, tag[32]{};

  ipsec_mb_raw(const esp_suite& suite, const esp_keys& k) : s(suite), mgr(alloc_mb_mgr(0)) {
    if (s.c().aead) detail::init_imb(mgr, detail::ipsec_mb_arch_wanted.load());  // the backend's code path (--ipsec_mb_arch)
    else init_mb_mgr_sse(mgr);
    if (s.c().mode == cipher_mode::gcm) {
      gk = new gcm_key_data;
      if (s.c().key_size == 16) IMB_AES128_GCM_PRE(mgr, k.encryption.data(), gk);
      else IMB_AES256_GCM_PRE(mgr, k.encryption.data(), gk);
    } else if (s.c().aead) {
      std::memcpy(ckey, k.encryption.data(), 32);
    } else {
      if (s.c().key_size == 16) IMB_AES_KEYEXP_128(mgr, k.encryption.data(), enc, dec);
      else if (s.c().key_size == 32) IMB_AES_KEYEXP_256(mgr, k.encryption.data(), enc, dec);
      alignas(16) std::uint8_t b[64];
      for (auto [pad, out] : {std::pair{0x36, ipad}, std::pair{0x5c, opad}}) {
        std::memset(b, pad, 64);
        for (std::size_t i = 0; i < k.integrity.size(); ++i) b[i] = static_cast<std::uint8_t>(k.integrity[i] ^ pad);
        if (s.integ == integ_id::hmac_sha1_96) IMB_SHA1_ONE_BLOCK(mgr, b, out);
        else IMB_SHA256_ONE_BLOCK(mgr, b, out);
      }
    }
  }

  // ---- the floor: the least work any encapsulator of the reference stack can do ----------
  // The reference stack (IPv4 / ESP tunnel / IPv4 / GRE) over AES-GCM, written by hand for
  // this one stack: no options, no policy, no error paths beyond the inner header's version
  // and length; each IPv4 header a 20-byte template whose checksum is patched (RFC 1071,
  // RFC 1624), and the one cipher call as `raw` makes it (nonce and AAD each one 16-byte
  // store). What encap adds beyond it is encap's own cost; what it adds beyond `raw` is what
  // writing the headers costs on this CPU. Checked byte for byte against encap's packets
  // before any timing (floor_check). The endpoint's choices it repeats: TTL 64, DSCP/ECN and
  // DF copied from the inner packet, IP IDs counted per header innermost first, the IV the
  // sequence number (RFC 4106 §3.1), minimal padding to 4 bytes (RFC 4303 §2.4).
  struct floor_state {
    std::uint32_t spi = 0;
    std::uint64_t seq = 1;
    std::uint16_t id = 0;
    std::uint32_t salt = 0;  // as it lies in memory
    std::array<std::uint8_t, 20> outer{}, delivery{};
    std::uint32_t outer_sum = 0, delivery_sum = 0;  // the templates' 16-bit words, unfolded
  };
  std::optional<floor_state> fl;
  static std::uint32_t word_sum(const std::array<std::uint8_t, 20>& h) {
    std::uint32_t s = 0;
    for (std::size_t i = 0; i < 20; i += 2) s += static_cast<std::uint32_t>(h[i] << 8 | h[i + 1]);
    return s;
  }
  void floor_init(std::uint32_t spi, std::span<const std::uint8_t> salt, std::array<std::uint8_t, 4> outer_src,
                  std::array<std::uint8_t, 4> outer_dst, std::array<std::uint8_t, 4> src, std::array<std::uint8_t, 4> dst) {
    floor_state f;
    f.spi = spi;
    std::memcpy(&f.salt, salt.data(), 4);
    const auto tmpl = [](std::array<std::uint8_t, 4> a, std::array<std::uint8_t, 4> b, std::uint8_t proto) {
      return std::array<std::uint8_t, 20>{0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0, a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]};
    };
    f.outer = tmpl(outer_src, outer_dst, 50);  // ESP
    f.delivery = tmpl(src, dst, 47);           // GRE
    f.outer_sum = word_sum(f.outer);
    f.delivery_sum = word_sum(f.delivery);
    fl = f;
  }
  // One IPv4 header: the template, then total length, TOS, ID and DF with the checksum
  // over them (host-order words; the constant ones summed once).
  static void floor_ipv4(std::uint8_t* h, const std::array<std::uint8_t, 20>& t, std::uint32_t sum, std::size_t len,
                         std::uint8_t tos, std::uint16_t id, bool df) {
    std::memcpy(h, t.data(), 20);
    h[1] = tos;
    store_be16(h + 2, static_cast<std::uint16_t>(len));
    store_be16(h + 4, id);
    if (df) h[6] = 0x40;
    std::uint32_t s = sum + tos + static_cast<std::uint32_t>(len) + id + (df ? 0x4000u : 0);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    store_be16(h + 10, static_cast<std::uint16_t>(~s));
  }
  // The inner packet of n bytes at `in` (headroom before it, tailroom after): false if it is
  // not IPv4 of that length.
  [[gnu::noinline]] bool floor_encap(std::uint8_t* in, std::size_t n) {
    floor_state& f = *fl;
    if (in[0] >> 4 != 4 || load_be16(in + 2) != n) return false;
    const std::uint8_t tos = in[1];
    const bool df = (in[6] & 0x40) != 0;
    const std::size_t body = (n + 24 + 2 + 3) & ~std::size_t{3};  // delivery IPv4 + GRE + inner + pad + 2
    const std::size_t pad = body - n - 26;
    std::uint8_t* gre = in - 4;
    std::uint8_t* delivery = gre - 20;
    std::uint8_t* esp = delivery - 16;
    store_be32(gre, 0x0800);  // no flags, protocol IPv4 (RFC 2784)
    floor_ipv4(delivery, f.delivery, f.delivery_sum, n + 24, tos, ++f.id, df);
    store_be64(in + n, 0x0102030405060708);  // pad 1, 2, 3, ... (the bytes past pad are overwritten next)
    in[n + pad] = static_cast<std::uint8_t>(pad);
    in[n + pad + 1] = 4;  // next header: IPv4
    const std::uint64_t seq = f.seq++;
    const std::uint64_t header = std::uint64_t{f.spi} << 32 | (seq & 0xffffffff);
    store_be64(esp, header);
    store_be64(esp + 8, seq);
    using u64x2 = unsigned long long __attribute__((vector_size(16)));
    alignas(16) std::uint8_t nonce[16], aad[16];
    const u64x2 nv{f.salt | std::uint64_t{__builtin_bswap64(seq)} << 32, __builtin_bswap64(seq) >> 32};
    const u64x2 av{__builtin_bswap64(header), 0};
    std::memcpy(nonce, &nv, 16);
    std::memcpy(aad, &av, 16);
    if (s.c().key_size == 16) IMB_AES128_GCM_ENC(mgr, gk, &ctx, delivery, delivery, body, nonce, aad, 8, delivery + body, 16);
    else IMB_AES256_GCM_ENC(mgr, gk, &ctx, delivery, delivery, body, nonce, aad, 8, delivery + body, 16);
    floor_ipv4(esp - 20, f.outer, f.outer_sum, 20 + 16 + body + 16, tos, ++f.id, df);
    return true;
  }

  // The floor's decapsulation of the same stack: what a receiver must do before it may
  // release the inner packet. The outer IPv4 header (20 bytes, not a fragment, ESP, length,
  // checksum); SPI; the sequence number against a 64-packet window (RFC 4303 §3.4.3);
  // the ICV, compared in constant time, before anything else is believed; padding, next
  // header and the window's update; the delivery IPv4 and GRE headers; the inner header's
  // version and length; RFC 6040's ECN. Addresses are not checked (ESP authenticates).
  // Returns the inner packet's offset and length (0 length: refused).
  std::uint64_t win_top = 0, win_bits = 0;
  static bool ipv4_ok(const std::uint8_t* h, std::uint8_t proto, std::size_t len) {
    return h[0] == 0x45 && h[9] == proto && load_be16(h + 2) == len && (load_be16(h + 6) & 0x3fff) == 0 &&
           checksum_fold(checksum_add(0, h, 20)) == 0;
  }
  [[gnu::noinline]] std::pair<std::size_t, std::size_t> floor_decap(std::uint8_t* p, std::size_t len) {
    constexpr std::size_t esp_at = 20, body_at = 36;
    if (len < body_at + 24 + 2 + 16 || !ipv4_ok(p, 50, len)) return {0, 0};
    const std::uint64_t header = load_be64(p + esp_at);
    if (header >> 32 != fl->spi) return {0, 0};
    const std::uint64_t seq = header & 0xffffffff;
    if (seq == 0 || (seq <= win_top && (win_top - seq >= 64 || (win_bits >> (win_top - seq) & 1)))) return {0, 0};
    const std::size_t body = len - body_at - 16;
    std::uint8_t* b = p + body_at;
    using u64x2 = unsigned long long __attribute__((vector_size(16)));
    alignas(16) std::uint8_t nonce[16], aad[16], tag[16];
    std::uint64_t iv;
    std::memcpy(&iv, p + esp_at + 8, 8);
    const u64x2 nv{fl->salt | iv << 32, iv >> 32}, av{__builtin_bswap64(header), 0};
    std::memcpy(nonce, &nv, 16);
    std::memcpy(aad, &av, 16);
    if (s.c().key_size == 16) IMB_AES128_GCM_DEC(mgr, gk, &ctx, b, b, body, nonce, aad, 8, tag, 16);
    else IMB_AES256_GCM_DEC(mgr, gk, &ctx, b, b, body, nonce, aad, 8, tag, 16);
    if (!ct_equal(tag, b + body, 16)) {
      secure_wipe(b, body);
      return {0, 0};
    }
    const std::size_t pad = b[body - 2];
    if (b[body - 1] != 4 || pad + 2 + 24 + 20 > body) return {0, 0};
    for (std::size_t i = 0; i < pad; ++i)
      if (b[body - 2 - pad + i] != i + 1) return {0, 0};
    if (seq > win_top) {
      win_bits = seq - win_top >= 64 ? 1 : win_bits << (seq - win_top) | 1;
      win_top = seq;
    } else {
      win_bits |= std::uint64_t{1} << (win_top - seq);
    }
    const std::size_t payload = body - 2 - pad;  // delivery IPv4 + GRE + inner
    if (!ipv4_ok(b, 47, payload) || load_be32(b + 20) != 0x0800) return {0, 0};
    std::uint8_t* in = b + 24;
    const std::size_t n = payload - 24;
    if (in[0] >> 4 != 4 || (in[0] & 0xf) < 5 || n < 20 || load_be16(in + 2) != n) return {0, 0};
    const unsigned outer_ecn = p[1] & 3u, inner_ecn = in[1] & 3u;  // RFC 6040 §4.2
    if (outer_ecn == 3 && inner_ecn == 0) return {0, 0};         // CE on a Not-ECT inner: drop
    const unsigned ecn = outer_ecn == 3 ? 3 : outer_ecn == 1 && inner_ecn == 2 ? 1 : inner_ecn;
    if (ecn != inner_ecn) {
      in[1] = static_cast<std::uint8_t>((in[1] & ~3u) | ecn);
      store_be16(in + 10, 0);
      store_be16(in + 10, checksum_fold(checksum_add(0, in, 20)));
    }
    return {static_cast<std::size_t>(in - p), n};
  }
  void floor_reset_window() { win_top = 0, win_bits = 0; }

  ~ipsec_mb_raw() { delete gk; free_mb_mgr(mgr); }
  void job(std::uint8_t* p, std::size_t n, bool seal) {
    const std::size_t iv = s.iv_size(), icv = s.icv_size();
    IMB_JOB* j = IMB_GET_NEXT_JOB(mgr);
    j->src = p;
    j->dst = p + 8 + iv;
    j->cipher_start_src_offset_in_bytes = 8 + iv;
    j->msg_len_to_cipher_in_bytes = n;
    j->cipher_mode = s.c().mode == cipher_mode::cbc ? IMB_CIPHER_CBC : IMB_CIPHER_NULL;
    j->cipher_direction = seal ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
    j->chain_order = seal ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
    j->key_len_in_bytes = s.c().key_size;
    j->enc_keys = enc;
    j->dec_keys = dec;
    j->iv = p + 8;
    j->iv_len_in_bytes = iv;
    j->hash_alg = s.integ == integ_id::hmac_sha1_96 ? IMB_AUTH_HMAC_SHA_1 : IMB_AUTH_HMAC_SHA_256;
    j->hash_start_src_offset_in_bytes = 0;
    j->msg_len_to_hash_in_bytes = 8 + iv + n;
    j->auth_tag_output = seal ? p + 8 + iv + n : tag;
    j->auth_tag_output_len_in_bytes = icv;
    j->u.HMAC._hashed_auth_key_xor_ipad = ipad;
    j->u.HMAC._hashed_auth_key_xor_opad = opad;
    if (!IMB_SUBMIT_JOB(mgr)) IMB_FLUSH_JOB(mgr);
  }
  // salt || IV in one 16-byte store, as the backend writes it (ipsec_mb.hpp, aead_input):
  // intel-ipsec-mb reads the nonce with one masked 16-byte load, which store forwarding
  // serves only from one store. Built as 4 + 8 bytes, that load waited for the cache and the
  // cipher with it (64-byte AES-128-GCM seal 54 -> 34 ns): a baseline slower than the cipher.
  static void nonce_of(const std::uint8_t* p, std::uint8_t* nonce) {
    std::uint64_t iv;
    std::memcpy(&iv, p + 8, 8);
    using u64x2 = unsigned long long __attribute__((vector_size(16)));
    const u64x2 w{0x04030201u | iv << 32, iv >> 32};  // salt 1, 2, 3, 4
    std::memcpy(nonce, &w, 16);
  }
  void seal(std::uint8_t* p, std::size_t n) {
    alignas(16) std::uint8_t nonce[16];
    nonce_of(p, nonce);
    std::uint8_t* body = p + 16;
    if (gk) {
      if (s.c().key_size == 16) IMB_AES128_GCM_ENC(mgr, gk, &ctx, body, body, n, nonce, p, 8, body + n, s.icv_size());
      else IMB_AES256_GCM_ENC(mgr, gk, &ctx, body, body, n, nonce, p, 8, body + n, s.icv_size());
    } else if (s.c().aead) {
      IMB_CHACHA20_POLY1305_INIT(mgr, ckey, &cctx, nonce, p, 8);
      IMB_CHACHA20_POLY1305_ENC_UPDATE(mgr, ckey, &cctx, body, body, n);
      IMB_CHACHA20_POLY1305_ENC_FINALIZE(mgr, &cctx, body + n, 16);
    } else {
      job(p, n, true);
    }
  }
  bool open(std::uint8_t* p, std::size_t n) {
    alignas(16) std::uint8_t nonce[16];
    nonce_of(p, nonce);
    std::uint8_t* body = p + 16;
    if (gk) {
      if (s.c().key_size == 16) IMB_AES128_GCM_DEC(mgr, gk, &ctx, body, body, n, nonce, p, 8, tag, s.icv_size());
      else IMB_AES256_GCM_DEC(mgr, gk, &ctx, body, body, n, nonce, p, 8, tag, s.icv_size());
    } else if (s.c().aead) {
      IMB_CHACHA20_POLY1305_INIT(mgr, ckey, &cctx, nonce, p, 8);
      IMB_CHACHA20_POLY1305_DEC_UPDATE(mgr, ckey, &cctx, body, body, n);
      IMB_CHACHA20_POLY1305_DEC_FINALIZE(mgr, &cctx, tag, 16);
    } else {
      job(p, n, false);
      body = p + 8 + s.iv_size();
    }
    return ct_equal(tag, body + n, s.icv_size());
  }
};
#endif

template <class B> struct raw_of;
// the floor: intel-ipsec-mb's AES-GCM only
template <class B, class Suite>
constexpr bool has_floor = [] {
#ifdef ENCAP_HAVE_IPSEC_MB
  return std::is_same_v<B, ipsec_mb_backend> && Suite::value.c().mode == cipher_mode::gcm;
#else
  return false;
#endif
}();
template <> struct raw_of<botan_backend> { using type = botan_raw; };
#ifdef ENCAP_HAVE_IPSEC_MB
template <> struct raw_of<ipsec_mb_backend> { using type = ipsec_mb_raw; };
#endif

// ---- the reference stack over a suite ---------------------------------------------------

template <class Suite>
constexpr auto stack_for() {
  return ipv4{{100, 1, 1, 1}, {100, 3, 3, 3}} / esp<tunnel, Suite>{} / ipv4{{172, 16, 0, 1}, {172, 16, 0, 2}} / gre{};
}

template <class B, class Suite>
struct fixture {
  using stack_t = decltype(stack_for<Suite>());
  static constexpr esp_suite suite = Suite::value;
  std::vector<std::uint8_t> ek = key(suite.c().key_size + suite.c().salt_size, 1);
  std::vector<std::uint8_t> ak = key(suite.c().aead ? 0 : suite.i().key_size, 2);
  esp_sa_config cfg{.spi = 0x1001, .suite = suite, .keys = {ek, ak}};
  esp_sa<B> out{cfg}, in{cfg};
  endpoint<B, stack_t> ep{stack_for<Suite>(), {.mtu = 65535}, &out, &in};
  // the same stack at run time: a spec string, the inbound SA in a table
  esp_sa<B> out_rt{cfg};
  sa_table<B> table;
  esp_sa<B>& in_rt = table.add(cfg);
  runtime_endpoint<B> rt{parse_spec("ipv4(src=100.1.1.1,dst=100.3.3.3)/esp(" + to_string(suite) +
                                    ",tunnel)/ipv4(src=172.16.0.1,dst=172.16.0.2)/gre").value(),
                         {.mtu = 65535}, &out_rt, &table};
  // bytes ESP encrypts for an inner packet of n: delivery IPv4 + GRE + n + pad + 2
  static std::size_t body_size(std::size_t n) { return round_up(n + 24 + 2, suite.align()); }
};

void count(benchmark::State& st, std::size_t bytes, std::size_t packets) {
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * bytes));
  st.counters["packets"] = benchmark::Counter(static_cast<double>(st.iterations() * packets), benchmark::Counter::kIsRate);
}

// Packet buffers in a ring: the bytes of packet k + lead are put back while packet k is
// processed, as a receive path writes packets before they are handled. (Restoring bytes
// and reading them back at once would time the CPU's store-forwarding stalls on the
// fresh stores, not encap.) encap and decap restore what the last round changed in place.
// Every buffer starts on a 64-byte boundary: with VAES/AVX-512 the cipher's speed depends
// on where a packet sits relative to cache lines, and two operations compared must see
// the same placement (heap buffers of this size land at varying offsets mod 64).
struct ring {
  static constexpr std::size_t slots = 4, lead = 2;
  struct aligned_free { void operator()(std::uint8_t* p) const { ::operator delete[](p, std::align_val_t{64}); } };
  std::vector<std::unique_ptr<std::uint8_t[], aligned_free>> buf;
  std::size_t bytes;
  explicit ring(std::size_t n) : bytes(n) {
    for (std::size_t i = 0; i < slots; ++i) {
      buf.emplace_back(static_cast<std::uint8_t*>(::operator new[](n, std::align_val_t{64})));
      std::memset(buf.back().get(), 0, n);
    }
  }
  byte_span operator[](std::size_t k) { return {buf[k % slots].get(), bytes}; }
};

enum class op { raw, encap, raw_open, decap, decap_forged, rt_encap, rt_decap, floor, floor_decap };

// One suite's packets for every operation: step(o, k) handles packet k (of `sizes`, in
// turn), in place on ring buffers; raw seals as many bytes as encap encrypts.
template <class B, class Suite>
struct workload {
  using S = typename fixture<B, Suite>::stack_t;
  fixture<B, Suite> fx;
  typename raw_of<B>::type raw{Suite::value, {fx.ek, fx.ak}};
  std::vector<std::size_t> sizes;
  std::size_t m = sizes.size();
  inner_headers hdr{sizes};
  std::vector<std::vector<std::uint8_t>> wire, forged, sealed;  // pristine inputs of decap, decap-forged, raw-open
  // A paired ratio compares code, not placement: each baseline works on the ring of the
  // operation it is compared with, its ESP packet where that operation's ESP header lies
  // (the typed and the run-time endpoint and the floor share theirs too). At 1414 bytes
  // intel-ipsec-mb's AES-GCM open took 116-122 ns with the body at 16 mod 64, 122-132 ns
  // at three other offsets, decap's among them.
  ring enc{S::headroom + 9100 + S::tailroom}, dec{9300}, bad{9300};
  std::size_t esp_enc = 0;                 // the ESP header's offset in enc's buffers
  static constexpr std::size_t esp_dec = 20;  // and in dec's: after the outer IPv4 header

  explicit workload(std::vector<std::size_t> z) : sizes(std::move(z)) {
    for (auto n : sizes) {
      std::vector<std::uint8_t> buf(S::headroom + 9100 + S::tailroom);
      write_inner(buf.data() + S::headroom, n);
      frame f(buf, S::headroom, n);
      if (!fx.ep.encap(f)) std::abort();
      esp_enc = static_cast<std::size_t>(f.data().data() - buf.data()) + esp_dec;
      wire.emplace_back(f.data().begin(), f.data().end());
      forged.push_back(wire.back());
      forged.back().back() ^= 1;  // one ICV bit
      std::vector<std::uint8_t> p(16 + 16 + fx.body_size(n) + 32, 0x5a);
      raw.seal(p.data(), fx.body_size(n));
      sealed.push_back(std::move(p));
    }
    if constexpr (has_floor<B, Suite>) floor_check();
  }
  // Before a run of `o` from packet k: the packets step() does not restore itself (shared
  // rings may hold another operation's bytes)
  void prime(op o, std::size_t k) {
    for (std::size_t j = 0; j < ring::lead; ++j) restore(o, k + j);
  }

  // The floor's packets before any timing: three of each size, byte for byte the packets a
  // fresh endpoint writes from the same inner packets, and each opens with encap's decap.
  void floor_check() {
    const auto init = [&] {
      raw.floor_init(fx.cfg.spi, std::span(fx.ek).subspan(Suite::value.c().key_size, 4), {100, 1, 1, 1}, {100, 3, 3, 3}, {172, 16, 0, 1},
                     {172, 16, 0, 2});
    };
    init();
    fixture<B, Suite> fresh;
    for (int round = 0; round < 3; ++round)
      for (const std::size_t n : sizes) {
        std::vector<std::uint8_t> a(S::headroom + 9100 + S::tailroom), b(a.size());
        write_inner(a.data() + S::headroom, n);
        for (std::size_t i = 20; i < n; ++i) a[S::headroom + i] = static_cast<std::uint8_t>(i * 13 + round);
        std::copy(a.begin(), a.end(), b.begin());
        const std::vector<std::uint8_t> inner(a.begin() + S::headroom, a.begin() + S::headroom + n);
        frame f(a, S::headroom, n);
        if (!fresh.ep.encap(f) || !raw.floor_encap(b.data() + S::headroom, n)) std::abort();
        const auto got = f.data();
        if (!std::equal(got.begin(), got.end(), b.begin() + (got.data() - a.data()))) {
          std::fprintf(stderr, "floor: packet of %zu bytes differs from encap's\n", n);
          std::abort();
        }
        // the floor's decap opens encap's packet to the same inner bytes, and refuses it forged
        std::vector<std::uint8_t> c(got.begin(), got.end());
        raw.floor_reset_window();
        const auto [at, len] = raw.floor_decap(c.data(), c.size());
        if (len != n || !std::equal(inner.begin(), inner.end(), c.begin() + static_cast<std::ptrdiff_t>(at))) {
          std::fprintf(stderr, "floor: encap's packet of %zu bytes does not open with the floor's decap\n", n);
          std::abort();
        }
        c.assign(got.begin(), got.end());  // a replay
        if (raw.floor_decap(c.data(), c.size()).second != 0) std::abort();
        c.assign(got.begin(), got.end());
        c.back() ^= 1;  // one ICV bit
        raw.floor_reset_window();
        if (raw.floor_decap(c.data(), c.size()).second != 0) std::abort();
        frame g(b, static_cast<std::size_t>(got.data() - a.data()), got.size());
        if (!fresh.ep.decap(g) || !std::equal(g.data().begin(), g.data().end(), inner.begin(), inner.end())) {
          std::fprintf(stderr, "floor: packet of %zu bytes does not open\n", n);
          std::abort();
        }
      }
    init();
  }

  [[gnu::noinline]] void restore(op o, std::size_t k) {  // (callgrind-per-packet.sh counts its calls)
    const std::size_t i = k % m;
    switch (o) {
      case op::encap:
      case op::floor:
      case op::rt_encap: std::memcpy(enc[k].data() + S::headroom, hdr.h[i].data(), 20); break;  // the last round encrypted it
      case op::raw_open: std::memcpy(dec[k].data() + esp_dec, sealed[i].data(), sealed[i].size()); break;
      case op::decap:
      case op::floor_decap:
      case op::rt_decap: std::memcpy(dec[k].data(), wire[i].data(), wire[i].size()); break;  // decap works in place
      case op::decap_forged: std::memcpy(bad[k].data(), forged[i].data(), forged[i].size()); break;
      default: break;
    }
  }

  bool step(op o, std::size_t k) {
    const std::size_t i = k % m;
    restore(o, k + ring::lead);
    switch (o) {
      case op::raw:  // on encap's ring, where encap's ESP packet lies: the same memory, the same placement
        raw.seal(enc[k].data() + esp_enc, fx.body_size(sizes[i]));
        benchmark::DoNotOptimize(enc[k].data());
        return true;
      case op::raw_open:
        benchmark::DoNotOptimize(dec[k].data());
        return raw.open(dec[k].data() + esp_dec, fx.body_size(sizes[i]));
      case op::floor:
        if constexpr (has_floor<B, Suite>) return raw.floor_encap(enc[k].data() + S::headroom, sizes[i]);
        return false;
      case op::floor_decap:
        if constexpr (has_floor<B, Suite>) {
          raw.floor_reset_window();  // the same sequence number again, as decap's
          return raw.floor_decap(dec[k].data(), wire[i].size()).second != 0;
        }
        return false;
      case op::encap: {
        frame f(enc[k], S::headroom, sizes[i]);
        const bool ok = fx.ep.encap(f).has_value();
        benchmark::DoNotOptimize(f);
        return ok;
      }
      case op::rt_encap: {
        frame f(enc[k], S::headroom, sizes[i]);
        const bool ok = fx.rt.encap(f).has_value();
        benchmark::DoNotOptimize(f);
        return ok;
      }
      case op::rt_decap: {
        fx.in_rt.reset_inbound(0);
        frame f(dec[k], 0, wire[i].size());
        const bool ok = fx.rt.decap(f).has_value();
        benchmark::DoNotOptimize(f);
        return ok;
      }
      default: {
        const bool good = o == op::decap;
        fx.in.reset_inbound(0);  // the same sequence number again, O(1)
        frame f(good ? dec[k] : bad[k], 0, wire[i].size());
        const bool ok = fx.ep.decap(f).has_value();
        benchmark::DoNotOptimize(f);
        return ok == good;
      }
    }
  }
  std::size_t bytes() const {
    std::size_t t = 0;
    for (auto n : sizes) t += n;
    return t;
  }
};

template <class B, class Suite>
void bm_op(benchmark::State& st, std::vector<std::size_t> sizes, op o) {
  workload<B, Suite> w(std::move(sizes));
  std::size_t k = 0;
  w.prime(o, k);
  for (auto _ : st)
    for (std::size_t i = 0; i < w.m; ++i)
      if (!w.step(o, k++)) st.SkipWithError("unexpected result");
  count(st, w.bytes(), w.m);
}

// The ratio of two operations measured in alternating batches of 64 rounds in one
// benchmark, so that the VM's drift (CV 3-25 % here between repetitions) hits both
// alike: counter "ratio" = time(base) / time(o), a throughput ratio (1.0 = as fast).
template <class B, class Suite>
void bm_paired(benchmark::State& st, std::vector<std::size_t> sizes, op o, op base) {
  workload<B, Suite> w(std::move(sizes));
  using clock = std::chrono::steady_clock;
  double t_o = 0, t_base = 0;
  std::size_t k = 0;
  for (auto _ : st) {
    for (const op x : {base, o}) {
      w.prime(x, k);  // (two copies in 64 rounds, untimed)
      const auto t0 = clock::now();
      for (int r = 0; r < 64; ++r)
        for (std::size_t i = 0; i < w.m; ++i)
          if (!w.step(x, k++)) st.SkipWithError("unexpected result");
      (x == o ? t_o : t_base) += std::chrono::duration<double>(clock::now() - t0).count();
    }
  }
  st.counters["ratio"] = t_base / t_o;
  // each side's own time per packet, from the same alternating batches
  const double packets = static_cast<double>(st.iterations()) * 64 * static_cast<double>(w.m);
  st.counters["ns_base"] = t_base * 1e9 / packets;
  st.counters["ns_op"] = t_o * 1e9 / packets;
}

// N packets of `n` bytes: encap_burst/decap_burst against N single calls. Decap copies
// the N wire packets back in first (it works in place) and rewinds the replay window.
template <class B, class Suite>
void bm_burst(benchmark::State& st, std::size_t n, std::size_t burst, bool as_burst, bool decap) {
  fixture<B, Suite> fx;
  using S = typename fixture<B, Suite>::stack_t;
  const std::size_t stride = S::headroom + n + S::tailroom;
  std::vector<std::uint8_t> buf(stride * burst);
  std::vector<frame> frames(burst);
  std::vector<result<byte_span>> sent(burst);
  std::vector<result<decap_info>> got(burst);
  auto fill = [&] {
    for (std::size_t i = 0; i < burst; ++i) {
      write_inner(buf.data() + i * stride + S::headroom, n);
      frames[i] = frame({buf.data() + i * stride, stride}, S::headroom, n);
    }
  };
  std::vector<std::vector<std::uint8_t>> wire;
  if (decap) {
    fill();
    fx.ep.encap_burst(frames, sent);
    for (auto& r : sent) wire.emplace_back(r.val.begin(), r.val.end());
  }
  for (auto _ : st) {
    if (decap) {
      for (std::size_t i = 0; i < burst; ++i) {
        std::memcpy(buf.data() + i * stride, wire[i].data(), wire[i].size());
        frames[i] = frame({buf.data() + i * stride, stride}, 0, wire[i].size());
      }
      fx.in.reset_inbound(0);
      if (as_burst) {
        if (fx.ep.decap_burst(frames, got) != burst) st.SkipWithError("decap failed");
      } else {
        for (std::size_t i = 0; i < burst; ++i) got[i] = fx.ep.decap(frames[i]);
      }
      benchmark::DoNotOptimize(got.data());
    } else {
      fill();
      if (as_burst) {
        fx.ep.encap_burst(frames, sent);
      } else {
        for (std::size_t i = 0; i < burst; ++i) sent[i] = fx.ep.encap(frames[i]);
      }
      benchmark::DoNotOptimize(sent.data());
    }
  }
  count(st, n * burst, burst);
}

template <class B, class Suite>
void register_suite(const std::string& backend) {
  const std::string name = to_string(Suite::value);
  if (!B::supports(Suite::value)) return;
  std::vector<std::pair<std::string, std::vector<std::size_t>>> shapes;
  for (std::size_t n : {64, 512, 1414, 9000}) shapes.push_back({std::to_string(n), {n}});
  shapes.push_back({"imix", imix});
  for (const auto& [label, sizes] : shapes) {
    const std::string tail = "/" + name + "/" + label;
    for (const auto& [opname, o] : {std::pair{"raw", op::raw}, std::pair{"encap", op::encap}, std::pair{"raw-open", op::raw_open},
                                    std::pair{"decap", op::decap}, std::pair{"decap-forged", op::decap_forged},
                                    std::pair{"rt-encap", op::rt_encap}, std::pair{"rt-decap", op::rt_decap}})
      benchmark::RegisterBenchmark((backend + "/" + opname + tail).c_str(), bm_op<B, Suite>, sizes, o);
    // the same ratios measured paired, in alternating batches (counter "ratio")
    benchmark::RegisterBenchmark((backend + "/encap-vs-raw" + tail).c_str(), bm_paired<B, Suite>, sizes, op::encap, op::raw);
    benchmark::RegisterBenchmark((backend + "/decap-vs-raw-open" + tail).c_str(), bm_paired<B, Suite>, sizes, op::decap, op::raw_open);
    benchmark::RegisterBenchmark((backend + "/forged-vs-decap" + tail).c_str(), bm_paired<B, Suite>, sizes, op::decap_forged, op::decap);
    benchmark::RegisterBenchmark((backend + "/runtime-vs-typed-encap" + tail).c_str(), bm_paired<B, Suite>, sizes, op::rt_encap, op::encap);
    benchmark::RegisterBenchmark((backend + "/runtime-vs-typed-decap" + tail).c_str(), bm_paired<B, Suite>, sizes, op::rt_decap, op::decap);
    if constexpr (has_floor<B, Suite>) {
      benchmark::RegisterBenchmark((backend + "/floor" + tail).c_str(), bm_op<B, Suite>, sizes, op::floor);
      benchmark::RegisterBenchmark((backend + "/floor-vs-raw" + tail).c_str(), bm_paired<B, Suite>, sizes, op::floor, op::raw);
      benchmark::RegisterBenchmark((backend + "/encap-vs-floor" + tail).c_str(), bm_paired<B, Suite>, sizes, op::encap, op::floor);
      benchmark::RegisterBenchmark((backend + "/floor-decap" + tail).c_str(), bm_op<B, Suite>, sizes, op::floor_decap);
      benchmark::RegisterBenchmark((backend + "/floor-decap-vs-raw-open" + tail).c_str(), bm_paired<B, Suite>, sizes, op::floor_decap, op::raw_open);
      benchmark::RegisterBenchmark((backend + "/decap-vs-floor-decap" + tail).c_str(), bm_paired<B, Suite>, sizes, op::decap, op::floor_decap);
    }
  }
  // One SA pair and endpoint per thread (RFC 9611's per-CPU SAs): the packet rate of one
  // thread and of two at once, in real time, so packets/s is the aggregate; the raw cipher
  // the same way shows what the machine itself scales to.
  if constexpr (std::is_same_v<Suite, aes256_gcm_16> || std::is_same_v<Suite, aes256_cbc_hmac_sha1_96>)
    for (const std::size_t n : {std::size_t{64}, std::size_t{1414}})
      for (const auto& [opname, o] : {std::pair{"raw", op::raw}, std::pair{"encap", op::encap}, std::pair{"decap", op::decap}})
        benchmark::RegisterBenchmark((backend + "/threads-" + opname + "/" + name + "/" + std::to_string(n)).c_str(), bm_op<B, Suite>,
                                     std::vector<std::size_t>{n}, o)
            ->Threads(1)->Threads(2)->UseRealTime();
  for (std::size_t burst : {1, 8, 32, 64})
    for (const bool decap : {false, true}) {
      const std::string op = decap ? "decap/" : "encap/", tail = name + "/1414/" + std::to_string(burst);
      benchmark::RegisterBenchmark((backend + "/burst-" + op + tail).c_str(), bm_burst<B, Suite>, 1414, burst, true, decap);
      benchmark::RegisterBenchmark((backend + "/single-" + op + tail).c_str(), bm_burst<B, Suite>, 1414, burst, false, decap);
    }
}

template <class B>
void register_backend(const std::string& backend) {
  register_suite<B, aes128_gcm_16>(backend);
  register_suite<B, aes256_gcm_16>(backend);
  register_suite<B, chacha20_poly1305>(backend);
  register_suite<B, aes256_cbc_hmac_sha1_96>(backend);
  register_suite<B, aes128_cbc_hmac_sha256_128>(backend);
  register_suite<B, null_hmac_sha256_128>(backend);
  // per-SA memory: the object plus what its constructor allocates
  esp_suite gcm = aes256_gcm_16::value;
  const auto ek = key(36, 1);
  const long before = heap_bytes.load();
  auto* sa = new esp_sa<B>({.spi = 1, .suite = gcm, .keys = {ek, {}}});
  const long bytes = heap_bytes.load() - before;
  delete sa;
  benchmark::AddCustomContext(backend + "_sa_bytes_aes-256-gcm-16", std::to_string(bytes));
#ifdef ENCAP_HAVE_IPSEC_MB
  if constexpr (std::is_same_v<B, ipsec_mb_backend>)  // shared by every SA on a thread, outside operator new
    benchmark::AddCustomContext("ipsec_mb_thread_bytes", std::to_string(2 * imb_get_mb_mgr_size()));
#endif
}

// One lookup in a table of n SAs, as the run-time endpoint's decap does it (SPI and the
// packet's source): O(1) means the time does not grow with n. bound: every SPI has an SA
// bound to peer 192.0.2.1:4500 and an unbound one (2n SAs), and the lookups come from
// that peer.
void bm_sa_find(benchmark::State& st, std::size_t n, bool bound) {
  const auto ek = key(36, 1);
  sa_table<botan_backend> t;
  std::vector<std::uint32_t> spis;
  std::uint32_t x = 0x12345678;
  for (std::size_t i = 0; i < n; ++i) {
    do { x = x * 1664525u + 1013904223u; } while (x < 256 || t.find(x));  // random SPIs, as IKE daemons pick them
    t.add({.spi = x, .suite = aes256_gcm_16::value, .keys = {ek, {}}});
    if (bound) t.add({.spi = x, .suite = aes256_gcm_16::value, .keys = {ek, {}}}, sa_peer::parse("192.0.2.1", 4500));
    spis.push_back(x);
  }
  std::vector<std::uint32_t> order(4096);
  for (auto& o : order) { x = x * 1664525u + 1013904223u; o = spis[x % n]; }
  const std::uint8_t source[4] = {192, 0, 2, 1};
  std::size_t k = 0;
  for (auto _ : st) {
    auto* sa = t.find(order[k++ & 4095], source, false, 4500);
    benchmark::DoNotOptimize(sa);
  }
  st.counters["lookups"] = benchmark::Counter(static_cast<double>(st.iterations()), benchmark::Counter::kIsRate);
}

void bm_calc(benchmark::State& st, int which) {
  constexpr auto s = stack_for<aes256_cbc_hmac_sha1_96>();
  std::size_t mtu = 1500, acc = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(mtu);
    switch (which) {
      case 0: acc += max_inner_size(s, mtu).value_or(0); break;
      case 1: acc += wire_size(s, 1414, mtu); break;
      case 2: acc += required_mtu(s, 1414).value_or(0); break;
      default: {
        const auto r = parse_spec("ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre");
        acc += max_inner_size(*r, mtu).value_or(0);
      }
    }
  }
  benchmark::DoNotOptimize(acc);
  st.counters["calls"] = benchmark::Counter(static_cast<double>(st.iterations()), benchmark::Counter::kIsRate);
}

#if defined(ENCAP_BENCH_DPDK) && defined(ENCAP_HAVE_IPSEC_MB)
// ---- DPDK's librte_ipsec on the same packets ---------------------------------------------
// ESP tunnel mode over IPv4 (IPv4 / ESP / IPv4: the shape librte_ipsec builds), anti-replay
// on both sides (window 64), the same intel-ipsec-mb under both (DPDK's crypto_aesni_mb PMD).
// Each round: 32 packets copied in (untimed), then processed (timed) in calls of `burst`
// packets; DPDK and encap alternate rounds, then the crypto alone. Counters: ratio = DPDK
// time / encap time (above 1: encap is faster), dpdk_ns, encap_ns and crypto_ns per packet,
// floor_ratio = DPDK time / crypto time. Before timing, each side's output
// must open on the other: encap's packets in DPDK's inbound SA, DPDK's in encap's (after
// the outer IPv4 checksum, which librte_ipsec leaves to the NIC, is filled in).

template <class Suite>
struct vs_dpdk {
  static constexpr esp_suite suite = Suite::value;
  static constexpr auto stack = ipv4{{100, 1, 1, 1}, {100, 3, 3, 3}} / esp<tunnel, Suite>{} / ipv4{};
  using S = std::remove_const_t<decltype(stack)>;
  std::vector<std::uint8_t> ek = key(suite.c().key_size + suite.c().salt_size, 1);
  std::vector<std::uint8_t> ak = key(suite.c().aead ? 0 : suite.i().key_size, 2);
  esp_sa_config cfg{.spi = 0x1001, .suite = suite, .keys = {ek, ak}};
  esp_sa<ipsec_mb_backend> out{cfg}, in{cfg};
  endpoint<ipsec_mb_backend, S> ep{stack, {.mtu = 65535}, &out, &in};
  dpdk_side::sa_params params(bool inbound, bool cpu) const {
    return {.gcm = suite.c().aead, .cipher_key = ek, .auth_key = ak, .spi = 0x1001, .src = {100, 1, 1, 1},
            .dst = {100, 3, 3, 3}, .inbound = inbound, .cpu_crypto = cpu};
  }
  static std::vector<std::uint8_t> inner(std::size_t n) {
    std::vector<std::uint8_t> p(n);
    write_inner(p.data(), n);
    for (std::size_t i = 20; i < n; ++i) p[i] = static_cast<std::uint8_t>(i * 13);
    return p;
  }
  std::vector<std::uint8_t> seal(const std::vector<std::uint8_t>& in_pkt) {
    std::vector<std::uint8_t> b(S::headroom + in_pkt.size() + S::tailroom);
    std::copy(in_pkt.begin(), in_pkt.end(), b.begin() + S::headroom);
    frame f(b, S::headroom, in_pkt.size());
    if (!ep.encap(f)) return {};
    return {f.data().begin(), f.data().end()};
  }
};

// Both directions between encap and DPDK, one packet of each size; "" when all open exactly.
template <class Suite>
std::string dpdk_interop(const std::vector<std::size_t>& sizes, bool cpu) {
  vs_dpdk<Suite> v;
  dpdk_side::sa out(v.params(false, cpu)), in(v.params(true, cpu));
  for (const std::size_t n : sizes) {
    const auto p = v.inner(n);
    in.load(0, v.seal(p));
    if (in.run(1, 1) != 1 || !std::ranges::equal(in.packet(0), p))
      return "DPDK did not open encap's " + std::to_string(n) + "-byte packet";
    out.load(0, p);
    if (out.run(1, 1) != 1) return "DPDK did not seal a " + std::to_string(n) + "-byte packet";
    std::vector<std::uint8_t> w(out.packet(0).begin(), out.packet(0).end());
    store_be16(&w[10], 0);
    store_be16(&w[10], internet_checksum(w.data(), 20));
    frame f(w, 0, w.size());
    const auto r = v.ep.decap(f);
    if (!r) return std::string("encap did not open DPDK's ") + std::to_string(n) + "-byte packet: " + to_string(r.error());
    if (!std::ranges::equal(f.data(), p)) return "encap opened DPDK's " + std::to_string(n) + "-byte packet to other bytes";
  }
  return "";
}

template <class Suite>
void bm_vs_dpdk(benchmark::State& st, std::vector<std::size_t> sizes, bool inbound, bool cpu, std::size_t burst) {
  std::string why;
  if (!dpdk_side::start(why)) return st.SkipWithError(("DPDK: " + why).c_str());
  if (const std::string e = dpdk_interop<Suite>(sizes, cpu); !e.empty()) return st.SkipWithError(e.c_str());
  using S = typename vs_dpdk<Suite>::S;
  constexpr std::size_t n = dpdk_side::sa::block, window_rounds = 64;  // then both inbound SAs start over
  vs_dpdk<Suite> fx;
  dpdk_side::sa d(fx.params(inbound, cpu));
  // inputs: inner packets, or the ESP packets encap seals from them (sequence numbers 1, 2, ...)
  std::vector<std::vector<std::uint8_t>> input;
  for (std::size_t i = 0; i < n * (inbound ? window_rounds : 1); ++i) {
    auto p = fx.inner(sizes[i % sizes.size()]);
    input.push_back(inbound ? fx.seal(p) : std::move(p));
  }
  struct aligned_free { void operator()(std::uint8_t* p) const { ::operator delete[](p, std::align_val_t{64}); } };
  std::vector<std::unique_ptr<std::uint8_t[], aligned_free>> buf;
  const std::size_t stride = S::headroom + 1600 + S::tailroom;
  for (std::size_t i = 0; i < n; ++i) buf.emplace_back(static_cast<std::uint8_t*>(::operator new[](stride, std::align_val_t{64})));
  std::array<frame, n> frames;
  std::array<result<byte_span>, n> sent;
  std::array<result<decap_info>, n> got;
  // the floor: the same ESP packets through the SA's crypto alone, in calls of `burst`
  // (what encap hands intel-ipsec-mb; a zero-overhead encapsulator's time)
  std::vector<std::unique_ptr<std::uint8_t[], aligned_free>> raw;
  for (std::size_t i = 0; i < n; ++i) raw.emplace_back(static_cast<std::uint8_t*>(::operator new[](stride, std::align_val_t{64})));
  std::array<esp_packet_view, n> views;
  std::array<errc, n> crypto_ok;
  using clock = std::chrono::steady_clock;
  double t_dpdk = 0, t_encap = 0, t_raw = 0;
  std::size_t rounds = 0;
  for (auto _ : st) {
    const std::size_t base = inbound ? (rounds % window_rounds) * n : 0;
    if (inbound && base == 0) {
      d.reset();
      fx.in.reset_inbound(0);
    }
    for (std::size_t i = 0; i < n; ++i) d.load(i, input[base + i]);
    auto t0 = clock::now();
    const std::size_t ok_dpdk = d.run(n, burst);
    t_dpdk += std::chrono::duration<double>(clock::now() - t0).count();
    const std::size_t at = inbound ? 0 : S::headroom;
    for (std::size_t i = 0; i < n; ++i) {
      std::memcpy(buf[i].get() + at, input[base + i].data(), input[base + i].size());
      frames[i] = frame({buf[i].get(), stride}, at, input[base + i].size());
    }
    t0 = clock::now();
    std::size_t ok_encap = 0;
    if (burst == 1) {
      for (std::size_t i = 0; i < n; ++i) ok_encap += inbound ? fx.ep.decap(frames[i]).has_value() : fx.ep.encap(frames[i]).has_value();
    } else {
      ok_encap = inbound ? fx.ep.decap_burst(frames, got) : fx.ep.encap_burst(frames, sent);
    }
    t_encap += std::chrono::duration<double>(clock::now() - t0).count();
    if (ok_dpdk != n || ok_encap != n) return st.SkipWithError("a packet failed");
    // ESP after the outer IPv4 header: encap's output (outbound: sealed again, as if
    // plaintext, at the same cost), or the packets decap received (inbound: opened)
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t* esp_at = inbound ? input[base + i].data() + 20 : frames[i].begin() + 20;
      const std::size_t esp_len = (inbound ? input[base + i].size() : frames[i].size()) - 20;
      std::memcpy(raw[i].get(), esp_at, esp_len);
      views[i] = esp_packet_view{{raw[i].get(), esp_len}, fx.suite.iv_size(), fx.suite.icv_size(), false, 0};
    }
    esp_sa<ipsec_mb_backend>& sa = inbound ? fx.in : fx.out;
    t0 = clock::now();
    for (std::size_t i = 0; i < n; i += burst) {
      const std::size_t k = std::min(burst, n - i);
      if (inbound) sa.open({views.data() + i, k}, {crypto_ok.data() + i, k});
      else sa.seal({views.data() + i, k}, {crypto_ok.data() + i, k});
    }
    t_raw += std::chrono::duration<double>(clock::now() - t0).count();
    if (std::ranges::count(crypto_ok, errc::ok) != static_cast<std::ptrdiff_t>(n)) return st.SkipWithError("the crypto alone failed");
    ++rounds;
  }
  const double packets = static_cast<double>(rounds * n);
  st.counters["ratio"] = t_dpdk / t_encap;
  st.counters["dpdk_ns"] = t_dpdk * 1e9 / packets;
  st.counters["encap_ns"] = t_encap * 1e9 / packets;
  st.counters["crypto_ns"] = t_raw * 1e9 / packets;
  st.counters["floor_ratio"] = t_dpdk / t_raw;  // the most any encapsulator over this crypto could reach
}

template <class Suite>
void register_vs_dpdk(const std::string& name) {
  for (const auto& [size_name, sizes] : {std::pair{std::string("64"), std::vector<std::size_t>{64}},
                                         std::pair{std::string("1414"), std::vector<std::size_t>{1414}}, std::pair{std::string("imix"), imix}})
    for (const bool inbound : {false, true})
      for (const bool cpu : {true, false})
        for (const std::size_t burst : {std::size_t{1}, std::size_t{32}})
          benchmark::RegisterBenchmark(("encap-vs-dpdk/" + std::string(inbound ? "inbound" : "outbound") + "/" + (cpu ? "cpu-crypto" : "lookaside") +
                                        "/burst" + std::to_string(burst) + "/" + name + "/" + size_name)
                                           .c_str(),
                                       bm_vs_dpdk<Suite>, sizes, inbound, cpu, burst);
}
#endif

// The CPU features the ciphers' speed depends on, from /proc/cpuinfo: ipsec-mb and Botan pick
// their AES-GCM code by them (VAES + VPCLMULQDQ with AVX-512, else AVX2, else AES-NI).
std::string cpu_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    const std::set<std::string> has{std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
    std::string out;
    for (const char* want : {"aes", "pclmulqdq", "avx2", "avx512f", "avx512bw", "vaes", "vpclmulqdq", "sha_ni"})
      out += std::string(out.empty() ? "" : " ") + (has.count(want) ? "" : "-") + want;
    return out;
  }
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("cpu_flags", cpu_flags());  // "-avx512f": absent
#ifdef ENCAP_HAVE_IPSEC_MB
  // --ipsec_mb_arch=sse|avx2|avx512: intel-ipsec-mb's code path for encap and the raw
  // baseline alike (what a CPU without AVX-512 gets, measured here); DPDK's PMD keeps its own
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i], flag = "--ipsec_mb_arch=";
    if (a.rfind(flag, 0) != 0) continue;
    const std::string_view want = a.substr(flag.size());
    bool ok = false;
    for (ipsec_mb_arch x : {ipsec_mb_arch::sse, ipsec_mb_arch::avx2, ipsec_mb_arch::avx512})
      if (to_string(x) == want) ok = set_ipsec_mb_arch(x);
    if (!ok) {
      std::fprintf(stderr, "encap-bench: --ipsec_mb_arch: '%s' is not sse, avx2 or avx512 this CPU runs\n", argv[i]);
      return 2;
    }
    std::copy(argv + i + 1, argv + argc, argv + i);
    --argc;
    break;
  }
  benchmark::AddCustomContext("ipsec_mb_arch", std::string(to_string(ipsec_mb_arch_in_use())));  // the one that runs
#endif
  benchmark::AddCustomContext("botan_version", Botan::short_version_string());
  register_backend<botan_backend>("botan");
#ifdef ENCAP_HAVE_IPSEC_MB
  register_backend<ipsec_mb_backend>("ipsec_mb");
#endif
#if defined(ENCAP_BENCH_DPDK) && defined(ENCAP_HAVE_IPSEC_MB)
  register_vs_dpdk<aes256_gcm_16>("aes-256-gcm-16");
  register_vs_dpdk<aes128_cbc_hmac_sha1_96>("aes-128-cbc,hmac-sha1-96");
#endif
  for (std::size_t n : {1, 100, 10000}) {
    benchmark::RegisterBenchmark(("sa_table/find/" + std::to_string(n)).c_str(), bm_sa_find, n, false);
    benchmark::RegisterBenchmark(("sa_table/find-bound/" + std::to_string(n)).c_str(), bm_sa_find, n, true);
  }
  benchmark::RegisterBenchmark("calc/max_inner_size/reference", bm_calc, 0);
  benchmark::RegisterBenchmark("calc/wire_size/reference", bm_calc, 1);
  benchmark::RegisterBenchmark("calc/required_mtu/reference", bm_calc, 2);
  benchmark::RegisterBenchmark("calc/parse_spec+max_inner_size/reference", bm_calc, 3);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
