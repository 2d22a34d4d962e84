// encap/esp_sa.hpp — an ESP security association (RFC 4303): SPI, suite and keys, the
// outbound sequence number (32-bit or extended), the inbound anti-replay window, the IV
// source, and in-place ESP encapsulation and decapsulation over a frame.
//
// Use one SA per direction, as IPsec does. Setup may throw std::invalid_argument; the
// data path never throws, never allocates, and releases nothing before the ICV passes.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "crypto/esp_crypto.hpp"
#include "crypto/suites.hpp"
#include "frame.hpp"
#include "layers/esp.hpp"
#include "replay.hpp"
#include "result.hpp"
#include "sizing.hpp"
#include "wire/esp.hpp"
#include "wire/ip.hpp"

namespace encap {
inline namespace v0 {

struct esp_sa_config {
  std::uint32_t spi = 0;
  esp_suite suite{};
  esp_keys keys{};                    // copied: the caller's buffers may be wiped after setup
  bool esn = false;                   // extended (64-bit) sequence numbers, RFC 4303 §2.2.1
  std::uint32_t replay_window = 64;   // packets; up to replay_window::max_size
  esp_padding padding{};
  bool allow_legacy = false;          // RFC 8221 MUST NOT algorithms (HMAC-MD5-96, 3DES) only if set
  // CBC/CTR/NULL with integrity "none": refused unless set. Such an SA has no anti-replay
  // (RFC 4303 §3.4.3), no ESN, and one error for every failure after decryption
  // (esp_bad_trailer, padding bytes unchecked): see docs/security.md.
  bool allow_unauthenticated = false;
};

template <esp_backend Backend>
class alignas(64) esp_sa {
 public:
  explicit esp_sa(const esp_sa_config& c)
      : spi_(checked(c).spi), suite_(c.suite), esn_(c.esn), authenticated_(c.suite.authenticated()), padding_(c.padding),
        rule_(esp_rule(c.suite, c.padding)), replay_(c.replay_window), crypto_(c.suite, c.keys) {}
  esp_sa(const esp_sa&) = delete;
  esp_sa& operator=(const esp_sa&) = delete;

  std::uint32_t spi() const noexcept { return spi_; }
  const esp_suite& suite() const noexcept { return suite_; }
  bool esn() const noexcept { return esn_; }
  // false only for an SA built with allow_unauthenticated: no anti-replay, one trailer error
  bool authenticated() const noexcept { return authenticated_; }
  const layer_rule& rule() const noexcept { return rule_; }
  const replay_window& window() const noexcept { return replay_; }

  // ---- setting the sequence state: each refuses a move backwards -------------------------
  // (backwards outbound reuses nonces, which for GCM/ChaCha20 reveals the key stream and
  // the authentication key; backwards inbound accepts replays)

  // Inbound, a known starting point: the first sequence number this SA accepts is `first`
  // (>= 1); everything below it counts as seen, and with ESN the high half of the
  // sequence numbers that follow is `first`'s. size_out_of_range for 0 (or above 2^32 - 1
  // without ESN), sequence_backwards for a point below what the SA has accepted.
  [[nodiscard]] errc start_inbound_at(std::uint64_t first) noexcept {
    if (first == 0 || first > max_seq()) return errc::size_out_of_range;
    return restore_inbound(first - 1);
  }
  // SA handover between data planes: continue an inbound SA whose highest accepted
  // sequence number was `top` (the window below it is treated as seen).
  [[nodiscard]] errc restore_inbound(std::uint64_t top) noexcept {
    if (top > max_seq()) return errc::size_out_of_range;
    if (top < replay_.top()) return errc::sequence_backwards;
    replay_.restore(top);
    return errc::ok;
  }
  // Forgets what was accepted: packets at or below `top` that were accepted before are
  // accepted again. For benchmarks and tests that replay the same packets; never on a
  // live SA.
  void reset_inbound(std::uint64_t top) noexcept { replay_.restore(top); }

  // ---- outbound ---------------------------------------------------------------------------

  std::uint64_t next_seq() const noexcept { return next_seq_; }
  bool exhausted() const noexcept { return exhausted_; }
  // For known-answer tests and SA handover: the sequence number of the next packet.
  // size_out_of_range for 0 or past the sequence space (2^32 - 1 without ESN),
  // sequence_backwards for one already used (below the next, or the last after exhaustion).
  [[nodiscard]] errc set_next_seq(std::uint64_t seq) noexcept {
    if (seq == 0 || seq > max_seq()) return errc::size_out_of_range;
    if (seq < next_seq_ || (exhausted_ && seq == next_seq_)) return errc::sequence_backwards;  // (the last one is used)
    next_seq_ = seq;
    exhausted_ = false;
    return errc::ok;
  }
  // For known-answer tests: the IV of the next packet only (then back to the IV source).
  // It must be exactly the suite's IV size (size_out_of_range otherwise; nothing changes).
  [[nodiscard]] errc set_next_iv(const_byte_span iv) noexcept {
    if (iv.size() != iv_size_ || iv.empty()) return errc::size_out_of_range;
    std::memcpy(fixed_iv_.data(), iv.data(), iv.size());
    fixed_iv_len_ = iv.size();
    return errc::ok;
  }

  // Wraps the frame's contents (the payload) in ESP: header and IV in front, padding,
  // pad length, next header and ICV behind, encrypted in place. `room` is the most the
  // ESP packet may occupy (for TFC padding clamped to the MTU). Returns the bytes added.
  // Fails before writing anything, but for a crypto backend failure (crypto_failure),
  // after which the frame's bounds and the sequence number are put back.
  result<std::size_t> encap(frame& f, std::uint8_t next_header, std::size_t room = unlimited) noexcept {
    const std::size_t front = f.headroom(), length = f.size();
    const std::uint64_t seq = next_seq_;
    const bool exhausted = exhausted_;
    const auto v = encap_prepare(f, next_header, room);
    if (!v) return v.error();
    if (const errc e = crypto_.seal(v.value()); e != errc::ok) {
      f.put_back(front, length);
      next_seq_ = seq;
      exhausted_ = exhausted;
      return e;
    }
    return f.size() - length;
  }

  // encap() in two halves, for bursts: encap_prepare writes everything but the
  // ciphertext and ICV and takes a sequence number; seal() then encrypts any number of
  // prepared packets in one call, which a multi-buffer backend interleaves.
  result<esp_packet_view> encap_prepare(frame& f, std::uint8_t next_header, std::size_t room = unlimited) noexcept {
    const std::size_t n = f.size();
    const bool tfc = padding_.tfc_boundary && (next_header == ip_proto::ipv4 || next_header == ip_proto::ipv6);
    const std::size_t p = tfc ? padded_payload(rule_, n, room) : n;
    // the alignment is 4, 8 or 16: a mask, not a division, on the per-packet path
    const std::size_t body = ((p + esp_trailer_fixed + align_mask_) & ~align_mask_) + rule_.extra_padding;
    const std::size_t pad_len = body - p - esp_trailer_fixed;
    const std::size_t head = esp_header_size + iv_size_, tail = body - n + icv_size_;
    if (f.headroom() < head) return errc::no_headroom;
    if (f.tailroom() < tail) return errc::no_tailroom;
    if (exhausted_) return errc::sequence_exhausted;
    const std::uint64_t seq = next_seq_;
    if (seq == max_seq()) exhausted_ = true; else ++next_seq_;  // refuse, never wrap (RFC 4303 §3.3.3)

    write_esp_trailer(f.begin(), n, p, pad_len, next_header, tail);
    (void)f.put(tail);
    (void)f.push(head);
    std::uint8_t* h = f.begin();
    write_esp_header(h, spi_, static_cast<std::uint32_t>(seq));
    const byte_span iv{h + esp_header_size, iv_size_};
    if (fixed_iv_len_) {
      std::memcpy(iv.data(), fixed_iv_.data(), fixed_iv_len_ < iv.size() ? fixed_iv_len_ : iv.size());
      fixed_iv_len_ = 0;
    } else {
      crypto_.make_iv(seq, iv);
    }
    return view(f.data(), static_cast<std::uint32_t>(seq >> 32));
  }

  // encap() for the typed endpoint's header template (endpoint.hpp), which knows the
  // suite's sizes at compile time and has checked the room: only while fast_ready() (not
  // at the last sequence number, no IV from set_next_iv) and without TFC padding. The
  // payload, `p` bytes, is already at h + 8 + Iv; the header goes at h. Returns the ESP
  // packet's length, or 0 if the backend failed (the sequence number is then put back).
  bool fast_ready() const noexcept { return !exhausted_ && fixed_iv_len_ == 0 && next_seq_ < max_seq(); }
  bool tfc_padding() const noexcept { return padding_.tfc_boundary != 0; }
  template <std::size_t Iv, std::size_t Icv, std::size_t Align>
  std::size_t encap_fixed(std::uint8_t* h, std::size_t p, std::uint8_t next_header) noexcept {
    return seal_framed(frame_fixed<Iv, Icv, Align>(h, p, next_header));
  }
  // encap_fixed's framing alone, for bursts: header, IV and trailer written, a sequence
  // number taken; the view goes to seal() with the burst's others.
  template <std::size_t Iv, std::size_t Icv, std::size_t Align>
  esp_packet_view frame_fixed(std::uint8_t* h, std::size_t p, std::uint8_t next_header) noexcept {
    static_assert((Align & (Align - 1)) == 0, "ESP alignment: 4, 8 or 16");
    return frame_sized(h, p, next_header, Iv, Icv, Align - 1);
  }
  // encap_fixed for the run-time endpoint's header template: the suite's sizes are the SA's
  std::size_t encap_sized(std::uint8_t* h, std::size_t p, std::uint8_t next_header) noexcept {
    return seal_framed(frame_sized(h, p, next_header, iv_size_, icv_size_, align_mask_));
  }

  // Whether this SA's backend runs several packets faster than one at a time.
  bool interleaves() const noexcept {
    if constexpr (requires(const Backend& b) { { b.interleaves() } -> std::same_as<bool>; }) return crypto_.interleaves();
    else return esp_burst_backend<Backend>;
  }
  // The same for sealing alone (a backend may say so apart: `interleaves_seal()`).
  bool interleaves_seal() const noexcept {
    if constexpr (requires(const Backend& b) { { b.interleaves_seal() } -> std::same_as<bool>; }) return crypto_.interleaves_seal();
    else return interleaves();
  }

  void seal(std::span<const esp_packet_view> v, std::span<errc> out) noexcept {
    if constexpr (esp_burst_backend<Backend>) {
      if (v.size() == 1) out[0] = crypto_.seal(v[0]);
      else crypto_.seal_burst(v, out);
    } else {
      for (std::size_t i = 0; i < v.size(); ++i) out[i] = crypto_.seal(v[i]);
    }
  }

  // ---- inbound ----------------------------------------------------------------------------

  // Checks SPI, sequence number against the window, and ICV, in that order; only then
  // decrypts, checks the padding and records the sequence number. On success the frame
  // holds the payload and the result is the next header.
  result<std::uint8_t> decap(frame& f) noexcept { return decap_sized(f, iv_size_, icv_size_, align_mask_); }

  // decap() in three parts, for bursts: decap_check does everything before the crypto,
  // open() verifies and decrypts any number of checked packets in one call, and
  // decap_finish takes each packet whose ICV passed.
  struct inbound {
    esp_packet_view view;
    std::uint64_t seq;
  };
  result<inbound> decap_check(frame& f) noexcept { return check_sized(f, iv_size_, icv_size_, align_mask_); }

  void open(std::span<const esp_packet_view> v, std::span<errc> out) noexcept {
    if constexpr (esp_burst_backend<Backend>) {
      if (v.size() == 1) out[0] = crypto_.open(v[0]);  // (one packet: the backend's shortest path)
      else crypto_.open_burst(v, out);
    } else {
      for (std::size_t i = 0; i < v.size(); ++i) out[i] = crypto_.open(v[i]);
    }
  }

  // The window check of decap_check again, against the window as it is now (bursts: after
  // the packets before this one were finished).
  errc recheck(const inbound& in) const noexcept { return authenticated_ ? replay_.check(in.seq) : errc::ok; }

  result<std::uint8_t> decap_finish(frame& f, const inbound& in) noexcept { return finish(f, in, true, authenticated_); }

  // decap() for the typed endpoint, which knows the suite's sizes at compile time (the
  // stack's ESP layer; the SA's suite was checked against it): the same checks, order and
  // errors, with the lengths and the ICV compare folded to constants.
  template <std::size_t Iv, std::size_t Icv, std::size_t Align>
  result<std::uint8_t> decap_fixed(frame& f) noexcept {
    static_assert((Align & (Align - 1)) == 0, "ESP alignment: 4, 8 or 16");
    return decap_sized(f, Iv, Icv, Align - 1);
  }

 private:
  // decap_finish. burst: the window is checked again; auth: whether the SA has integrity
  // (integrity(), a constant where the caller has the ICV's size as one).
  result<std::uint8_t> finish(frame& f, const inbound& in, bool burst, bool auth) noexcept {
    const std::uint8_t* b = in.view.body();
    const std::size_t body = in.view.body_size();
    const std::size_t pad_len = b[body - 2];
    const std::uint8_t next_header = b[body - 1];
    if (!auth) {  // one error, padding bytes unchecked: no padding oracle
      if (pad_len + esp_trailer_fixed > body || next_header == ip_proto::no_next) return errc::esp_bad_trailer;
    } else {
      if (pad_len + esp_trailer_fixed > body) return errc::esp_bad_pad_length;
      const std::size_t payload = body - esp_trailer_fixed - pad_len;
      if (!esp_padding_valid(b + payload, pad_len, payload)) return errc::esp_bad_padding;
      // checked again: one burst may carry the same sequence number twice
      if (burst)
        if (const errc e = replay_.check(in.seq); e != errc::ok) return e;
      replay_.update(in.seq);
      if (next_header == ip_proto::no_next) return errc::esp_dummy_packet;
    }
    (void)f.pull(esp_header_size + in.view.iv_size);
    (void)f.trim(pad_len + esp_trailer_fixed + in.view.icv_size);
    return next_header;
  }

  // The SA's own rules, before anything is built (the backend checks its keys itself).
  static const esp_sa_config& checked(const esp_sa_config& c) {
    if (!c.suite.valid()) throw std::invalid_argument(std::string(to_string(c.suite.check())));
    if (c.suite.legacy() && !c.allow_legacy)
      throw std::invalid_argument("legacy algorithm (RFC 8221 MUST NOT): set allow_legacy to use it");
    if (!c.suite.authenticated()) {
      if (!c.allow_unauthenticated)
        throw std::invalid_argument("integrity 'none': an unauthenticated SA has no anti-replay and is open to forgery; "
                                    "set allow_unauthenticated to use it (RFC 4303 §3.4.3, docs/security.md)");
      if (c.esn) throw std::invalid_argument("ESN needs integrity: the high sequence bits are only ever authenticated (RFC 4303 §2.2.1)");
    }
    if (check_padding(c.suite, c.padding) != padding_error::ok) throw std::invalid_argument("invalid ESP padding policy");
    if (!Backend::supports(c.suite)) throw std::invalid_argument(std::string(to_string(c.suite)) + ": not supported by the " +
                                                                 std::string(Backend::name) + " backend");
    if (c.keys.encryption.size() > 36 || c.keys.integrity.size() > 64) throw std::invalid_argument("key too long");
    if (c.replay_window == 0 || c.replay_window > replay_window::max_size)
      throw std::invalid_argument("replay window of " + std::to_string(c.replay_window) + " packets: 1 to " +
                                  std::to_string(replay_window::max_size));
    return c;
  }

  // Whether the SA has integrity, from an ICV size the caller may have as a constant (an
  // ICV is integrity: suites.hpp's icv_size() is nonzero exactly when authenticated()).
  bool integrity(std::size_t icv) const noexcept { return icv != 0 || authenticated_; }

  std::uint64_t max_seq() const noexcept { return esn_ ? ~std::uint64_t{0} : 0xffffffffu; }

  // The packet frame_fixed or frame_sized just framed, sealed: its length, or 0 with its sequence number put back.
  std::size_t seal_framed(const esp_packet_view& v) noexcept {
    if (crypto_.seal(v) != errc::ok) {
      --next_seq_;
      return 0;
    }
    return v.packet.size();
  }

  // frame_fixed with the suite's sizes as the caller has them (constants, or members)
  esp_packet_view frame_sized(std::uint8_t* h, std::size_t p, std::uint8_t next_header, std::size_t iv, std::size_t icv,
                              std::size_t align_mask) noexcept {
    const std::size_t head = esp_header_size + iv;
    const std::size_t body = ((p + esp_trailer_fixed + align_mask) & ~align_mask) + rule_.extra_padding;
    const std::uint64_t seq = next_seq_++;
    write_esp_trailer(h + head, p, p, body - p - esp_trailer_fixed, next_header, body - p + icv);
    write_esp_header(h, spi_, static_cast<std::uint32_t>(seq));
    crypto_.make_iv(seq, {h + esp_header_size, iv});
    return esp_packet_view{{h, head + body + icv}, iv, icv, esn_, static_cast<std::uint32_t>(seq >> 32)};
  }

  // decap() with the suite's sizes as the caller has them (members, or constants). The
  // packet's view is built here rather than returned by check_sized: GCC keeps a returned
  // result<inbound> in memory, stored and read back (15 instructions a 64-byte packet).
  result<std::uint8_t> decap_sized(frame& f, std::size_t iv, std::size_t icv, std::size_t align_mask) noexcept {
    std::uint64_t seq = 0;
    if (const errc e = check_header(f, iv, icv, align_mask, seq); e != errc::ok) return e;
    const inbound in{{f.data(), iv, icv, esn_, static_cast<std::uint32_t>(seq >> 32)}, seq};
    if (const errc e = crypto_.open(in.view); e != errc::ok) return e;
    return finish(f, in, false, integrity(icv));  // (one packet: nothing moved the window since its check)
  }

  // decap_check with the suite's sizes as the caller has them (members, or constants)
  result<inbound> check_sized(frame& f, std::size_t iv, std::size_t icv, std::size_t align_mask) noexcept {
    std::uint64_t seq = 0;
    if (const errc e = check_header(f, iv, icv, align_mask, seq); e != errc::ok) return e;
    return inbound{{f.data(), iv, icv, esn_, static_cast<std::uint32_t>(seq >> 32)}, seq};
  }

  // Length, SPI and (with integrity) the window; seq: the full sequence number.
  errc check_header(const frame& f, std::size_t iv, std::size_t icv, std::size_t align_mask, std::uint64_t& seq) const noexcept {
    if (f.size() < esp_header_size + iv + icv + esp_trailer_fixed) return errc::truncated;
    const std::size_t body = f.size() - esp_header_size - iv - icv;
    if ((body & align_mask) != 0) return errc::esp_bad_length;
    const std::uint8_t* h = f.begin();
    if (load_be32(h) != spi_) return errc::esp_unknown_spi;
    const std::uint32_t seq_lo = load_be32(h + 4);
    seq = seq_lo;
    if (!integrity(icv)) return errc::ok;  // no anti-replay without integrity (RFC 4303 §3.4.3)
    if (esn_ && !replay_.infer_esn(seq_lo, seq)) return errc::esp_too_old;
    return replay_.check(seq);
  }

  esp_packet_view view(byte_span packet, std::uint32_t seq_hi) const noexcept {
    return {packet, iv_size_, icv_size_, esn_, seq_hi};
  }

  std::uint32_t spi_;
  esp_suite suite_;
  bool esn_;
  bool authenticated_;
  esp_padding padding_;
  layer_rule rule_;
  std::size_t iv_size_ = suite_.iv_size(), icv_size_ = suite_.icv_size(), align_mask_ = suite_.align() - 1;
  std::uint64_t next_seq_ = 1;
  bool exhausted_ = false;
  std::array<std::uint8_t, 16> fixed_iv_{};
  std::size_t fixed_iv_len_ = 0;
  replay_window replay_;
  Backend crypto_;  // the only holder of key material: the Wireshark export is sa_config.hpp's wireshark_sa()
};

}  // namespace v0
}  // namespace encap
