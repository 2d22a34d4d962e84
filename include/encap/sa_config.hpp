// encap/sa_config.hpp — an SA's configuration from the text users already have, and back:
//
//   ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0xc0de0001 mode tunnel
//       replay-window 64 flag esn aead 'rfc4106(gcm(aes))' 0x<36 bytes> 128 encap espinudp 4500 4500 0.0.0.0
//   "IPv4","192.0.2.1","192.0.2.2","0xc0de0001","AES-GCM with 16 octet ICV [RFC4106]","0x<36 bytes>","NULL",""
//                                          (a line of Wireshark's esp_sa table)
//
// Each parses into an sa_entry that owns its keys; config() gives the esp_sa_config.
// Errors point at the token; key lengths are checked against the suite. wireshark_sa()
// writes the Wireshark line of an SA configuration (an esp_sa keeps no copy of its keys).
// Setup-time code: it allocates.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/esp_crypto.hpp"
#include "crypto/suite_names.hpp"
#include "crypto/suites.hpp"
#include "esp_sa.hpp"
#include "layers/esp.hpp"
#include "text_error.hpp"

namespace encap {
inline namespace v0 {

struct sa_entry {
  std::string src, dst;                   // the outer addresses, as written
  bool ipv6 = false;
  std::uint32_t spi = 0;
  esp_suite suite{};
  std::vector<std::uint8_t> encryption_key, integrity_key;  // KEYMAT: key || salt (RFC 4106 §8.1 and kin)
  bool esn = false;
  std::uint32_t replay_window = 64;
  std::optional<esp_mode> mode;
  std::optional<std::uint16_t> encap_sport, encap_dport;  // ESP in UDP (RFC 3948)
  std::optional<std::uint64_t> replay_seq, replay_oseq;   // the last sequence number received / sent (an SA handed over)
  std::vector<std::string> notes;                         // what was accepted but does not shape the SA

  // The esp_sa configuration; its key spans point into this entry.
  esp_sa_config config() const {
    return {.spi = spi, .suite = suite, .keys = {encryption_key, integrity_key}, .esn = esn, .replay_window = replay_window,
            .allow_legacy = suite.legacy()};
  }
};

namespace detail::sa {

struct word {
  std::string text;  // quotes removed
  std::size_t offset = 0, length = 0;
};

// Shell-like words: spaces separate, single or double quotes group.
inline std::vector<word> words(std::string_view s, std::string_view seps = " \t") {
  std::vector<word> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && seps.find(s[i]) != std::string_view::npos) ++i;
    if (i >= s.size()) break;
    word w{"", i, 0};
    while (i < s.size() && seps.find(s[i]) == std::string_view::npos) {
      if (s[i] == '\'' || s[i] == '"') {
        const char q = s[i++];
        while (i < s.size() && s[i] != q) w.text += s[i++];
        if (i < s.size()) ++i;
      } else {
        w.text += s[i++];
      }
    }
    w.length = i - w.offset;
    out.push_back(std::move(w));
  }
  return out;
}

inline std::optional<std::vector<std::uint8_t>> hex_bytes(std::string_view h) {
  if (h.substr(0, 2) == "0x" || h.substr(0, 2) == "0X") h.remove_prefix(2);
  if (h.size() % 2) return std::nullopt;
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < h.size(); i += 2) {
    unsigned v = 0;
    const auto r = std::from_chars(h.data() + i, h.data() + i + 2, v, 16);
    if (r.ec != std::errc{} || r.ptr != h.data() + i + 2) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(v));
  }
  return out;
}

inline std::optional<std::uint64_t> integer(std::string_view t) {
  std::uint64_t v = 0;
  int base = 10;
  if (t.substr(0, 2) == "0x" || t.substr(0, 2) == "0X") { t.remove_prefix(2); base = 16; }
  const auto r = std::from_chars(t.data(), t.data() + t.size(), v, base);
  if (t.empty() || r.ec != std::errc{} || r.ptr != t.data() + t.size()) return std::nullopt;
  return v;
}

inline std::optional<text_error> check_keys(const sa_entry& e, const word& at_enc, const word& at_auth) {
  const std::size_t want_enc = e.suite.c().key_size + e.suite.c().salt_size;
  if (e.encryption_key.size() != want_enc)
    return text_error{at_enc.offset, at_enc.length, std::string(to_string(e.suite)) + " takes a " + std::to_string(want_enc) +
                                                       "-byte encryption key (salt included), not " + std::to_string(e.encryption_key.size())};
  const std::size_t want_auth = e.suite.c().aead ? 0 : e.suite.i().key_size;
  if (e.integrity_key.size() != want_auth)
    return text_error{at_auth.offset, at_auth.length, std::string(to_string(e.suite)) + " takes a " + std::to_string(want_auth) +
                                                         "-byte integrity key, not " + std::to_string(e.integrity_key.size())};
  return std::nullopt;
}

inline bool is_ipv6_text(std::string_view a) { return a.find(':') != std::string_view::npos; }

}  // namespace detail::sa

// `ip xfrm state add|update ...` (ip-xfrm(8)), with or without the leading "ip xfrm state add".
inline parsed<sa_entry> parse_xfrm_state(std::string_view line) {
  using namespace detail::sa;
  const auto w = words(line);
  auto fail = [](const word& at, std::string m) { return parsed<sa_entry>(text_error{at.offset, at.length, std::move(m)}); };
  sa_entry e;
  std::size_t i = 0;
  if (i < w.size() && w[i].text == "ip") ++i;
  if (i < w.size() && w[i].text == "xfrm") ++i;
  if (i < w.size() && w[i].text == "state") ++i;
  if (i < w.size() && (w[i].text == "add" || w[i].text == "update")) ++i;
  std::optional<std::string> enc_name, auth_name;
  std::optional<std::size_t> icv_bits, trunc_bits;
  const word none{};
  const word* enc_at = &none;
  const word* auth_at = &none;
  bool have_spi = false, proto_esp = false;
  auto need = [&](std::size_t n) { return i + n < w.size(); };
  while (i < w.size()) {
    const word& k = w[i];
    const std::string& t = k.text;
    if (t == "src" || t == "dst") {
      if (!need(1)) return fail(k, t + " needs an address");
      (t == "src" ? e.src : e.dst) = w[++i].text;
    } else if (t == "proto") {
      if (!need(1)) return fail(k, "proto needs a value");
      if (w[++i].text != "esp") return fail(w[i], "encap carries ESP: proto esp, not " + w[i].text);
      proto_esp = true;
    } else if (t == "spi") {
      if (!need(1)) return fail(k, "spi needs a value");
      const auto v = integer(w[++i].text);
      if (!v || *v > 0xffffffffu || *v < 256) return fail(w[i], "an SPI is 256 to 0xffffffff (RFC 4303 §2.1: 1-255 are reserved)");
      e.spi = static_cast<std::uint32_t>(*v);
      have_spi = true;
    } else if (t == "mode") {
      if (!need(1)) return fail(k, "mode needs a value");
      const std::string& m = w[++i].text;
      if (m != "tunnel" && m != "transport") return fail(w[i], "mode is tunnel or transport (encap does not do " + m + ")");
      e.mode = m == "tunnel" ? esp_mode::tunnel : esp_mode::transport;
    } else if (t == "replay-window") {
      if (!need(1)) return fail(k, "replay-window needs a number");
      const auto v = integer(w[++i].text);
      if (!v || *v > replay_window::max_size) return fail(w[i], "a replay window of 0 to " + std::to_string(replay_window::max_size) + " packets");
      if (*v == 0) e.notes.push_back("replay-window 0 (the kernel's 'no anti-replay'): encap keeps a 64-packet window");
      else e.replay_window = static_cast<std::uint32_t>(*v);
    } else if (t == "replay-seq" || t == "replay-oseq" || t == "replay-seq-hi" || t == "replay-oseq-hi") {
      if (!need(1)) return fail(k, t + " needs a number");
      const auto v = integer(w[++i].text);
      if (!v || *v > 0xffffffffu) return fail(w[i], "a 32-bit sequence number");
      auto& field = t.substr(0, 11) == "replay-oseq" ? e.replay_oseq : e.replay_seq;
      const bool hi = t.size() > 3 && t.substr(t.size() - 3) == "-hi";
      field = (field.value_or(0) & (hi ? 0xffffffffu : ~std::uint64_t{0xffffffffu})) | (hi ? *v << 32 : *v);
    } else if (t == "flag") {
      if (!need(1)) return fail(k, "flag needs a value");
      if (w[++i].text == "esn") e.esn = true;
      else e.notes.push_back("flag " + w[i].text + ": not used by the data path");
    } else if (t == "aead") {
      if (!need(3)) return fail(k, "aead NAME KEY ICV-BITS");
      enc_name = w[i + 1].text;
      enc_at = &w[i + 1];
      const auto key = hex_bytes(w[i + 2].text);
      if (!key) return fail(w[i + 2], "a key in hex (0x...)");
      e.encryption_key = *key;
      const auto bits = integer(w[i + 3].text);
      if (!bits) return fail(w[i + 3], "the ICV length in bits");
      icv_bits = static_cast<std::size_t>(*bits);
      enc_at = &w[i + 2];
      i += 3;
    } else if (t == "enc") {
      if (!need(2)) return fail(k, "enc NAME KEY");
      enc_name = w[i + 1].text;
      const auto key = hex_bytes(w[i + 2].text);
      if (!key) return fail(w[i + 2], "a key in hex (0x...)");
      e.encryption_key = *key;
      enc_at = &w[i + 2];
      i += 2;
    } else if (t == "auth" || t == "auth-trunc") {
      const bool tr = t == "auth-trunc";
      if (!need(tr ? 3 : 2)) return fail(k, tr ? "auth-trunc NAME KEY BITS" : "auth NAME KEY");
      auth_name = w[i + 1].text;
      const auto key = hex_bytes(w[i + 2].text);
      if (!key) return fail(w[i + 2], "a key in hex (0x...)");
      e.integrity_key = *key;
      auth_at = &w[i + 2];
      if (tr) {
        const auto bits = integer(w[i + 3].text);
        if (!bits) return fail(w[i + 3], "the truncation length in bits");
        trunc_bits = static_cast<std::size_t>(*bits);
      }
      i += tr ? 3 : 2;
    } else if (t == "encap") {
      if (!need(4)) return fail(k, "encap espinudp SPORT DPORT OADDR");
      if (w[i + 1].text != "espinudp") return fail(w[i + 1], "ESP in UDP is espinudp (RFC 3948), not " + w[i + 1].text);
      const auto sp = integer(w[i + 2].text), dp = integer(w[i + 3].text);
      if (!sp || *sp == 0 || *sp > 65535) return fail(w[i + 2], "a UDP port");
      if (!dp || *dp == 0 || *dp > 65535) return fail(w[i + 3], "a UDP port");
      e.encap_sport = static_cast<std::uint16_t>(*sp);
      e.encap_dport = static_cast<std::uint16_t>(*dp);
      i += 4;
    } else if (t == "reqid" || t == "if_id" || t == "output-mark" || t == "extra-flag" || t == "mark" || t == "ctx" ||
               t == "limit" || t == "lifetime" || t == "offload") {
      if (!need(1)) return fail(k, t + " needs a value");
      e.notes.push_back(t + " " + w[i + 1].text + ": not used by the data path");
      ++i;
      if (t == "mark" && need(2) && w[i + 1].text == "mask") i += 2;
    } else if (t == "sel") {  // the selector is policy, not the SA's data path: up to the next keyword we know
      e.notes.push_back("the selector ('sel ...') is policy: the tunnel's spec and routes decide what enters");
      while (need(1) && w[i + 1].text != "limit" && w[i + 1].text != "encap" && w[i + 1].text != "replay-window" && w[i + 1].text != "flag") ++i;
    } else {
      return fail(k, "unknown ip xfrm state keyword '" + t + "'");
    }
    ++i;
  }
  const word& last = w.empty() ? none : w.back();
  if (!proto_esp) return fail(last, "no 'proto esp'");
  if (!have_spi) return fail(last, "no 'spi'");
  if (e.src.empty() || e.dst.empty()) return fail(last, "no 'src' and 'dst'");
  e.ipv6 = is_ipv6_text(e.src);
  if (!enc_name) return fail(last, "no 'aead' or 'enc' algorithm");
  std::string name = *enc_name;
  if (icv_bits) name += " " + std::to_string(*icv_bits);
  else if (auth_name) name += " " + *auth_name + (trunc_bits ? " " + std::to_string(*trunc_bits) : std::string());
  const auto s = parse_suite_name(name, e.encryption_key.size());
  if (!s) {
    // point at the algorithm in the line, not in the composed name
    const word& at = s.error().offset > enc_name->size() ? *auth_at : *enc_at;
    return fail(at, s.error().message);
  }
  e.suite = s->suite;
  if (icv_bits && auth_name) return fail(*auth_at, "an AEAD ('aead') takes no 'auth'");
  if (const auto k = check_keys(e, *enc_at, *auth_at)) return *k;
  if (e.esn && !e.suite.authenticated()) return fail(*enc_at, "ESN needs integrity (RFC 4303 §2.2.1)");
  return e;
}

// One line of Wireshark's esp_sa table (its UAT file: "esp_sa" in the profile, or
// -o 'uat:esp_sa:...'): protocol, src, dst, SPI, encryption, key, authentication, key.
inline parsed<sa_entry> parse_wireshark_sa(std::string_view line) {
  using namespace detail::sa;
  auto fail = [](std::size_t off, std::size_t len, std::string m) { return parsed<sa_entry>(text_error{off, len, std::move(m)}); };
  std::vector<word> f;
  {
    std::size_t i = 0;
    while (i <= line.size()) {
      while (i < line.size() && line[i] == ' ') ++i;
      word w{"", i, 0};
      if (i < line.size() && line[i] == '"') {
        ++i;
        while (i < line.size() && line[i] != '"') w.text += line[i++];
        if (i >= line.size()) return fail(w.offset, 1, "unterminated quote");
        ++i;
      } else {
        while (i < line.size() && line[i] != ',') w.text += line[i++];
      }
      w.length = i - w.offset;
      f.push_back(std::move(w));
      while (i < line.size() && line[i] == ' ') ++i;
      if (i >= line.size()) break;
      if (line[i] != ',') return fail(i, 1, "expected ',' between fields");
      ++i;
    }
  }
  if (f.size() != 8)
    return fail(0, line.size(), "an esp_sa line has 8 fields (protocol, src, dst, SPI, encryption, key, authentication, key), not " +
                                    std::to_string(f.size()));
  sa_entry e;
  if (f[0].text != "IPv4" && f[0].text != "IPv6") return fail(f[0].offset, f[0].length, "the protocol is \"IPv4\" or \"IPv6\"");
  e.ipv6 = f[0].text == "IPv6";
  e.src = f[1].text;
  e.dst = f[2].text;
  const auto spi = integer(f[3].text);
  if (!spi || *spi > 0xffffffffu || *spi < 256) return fail(f[3].offset, f[3].length, "an SPI is 256 to 0xffffffff");
  e.spi = static_cast<std::uint32_t>(*spi);
  const auto ek = hex_bytes(f[5].text);
  if (!ek) return fail(f[5].offset, f[5].length, "a key in hex (0x...)");
  e.encryption_key = *ek;
  const auto ak = f[7].text.empty() ? std::optional<std::vector<std::uint8_t>>(std::vector<std::uint8_t>{}) : hex_bytes(f[7].text);
  if (!ak) return fail(f[7].offset, f[7].length, "a key in hex (0x...)");
  e.integrity_key = *ak;
  // the cipher: Wireshark's name, and for AES the key's length
  std::optional<cipher_id> c;
  for (const auto& ci : ciphers)
    if (!ci.wireshark_name.empty() && ci.wireshark_name == f[4].text && ci.key_size + ci.salt_size == e.encryption_key.size()) c = ci.id;
  if (!c) {
    bool known = false;
    for (const auto& ci : ciphers) known |= !ci.wireshark_name.empty() && ci.wireshark_name == f[4].text;
    if (!known) return fail(f[4].offset, f[4].length, "unknown Wireshark encryption algorithm '" + f[4].text + "'");
    return fail(f[5].offset, f[5].length, "no " + f[4].text + " suite takes a " + std::to_string(e.encryption_key.size()) + "-byte key");
  }
  integ_id in = integ_id::unspecified;
  if (!info(*c).aead) {
    bool found = false;
    for (const auto& ii : integrities)
      if (ii.id != integ_id::unspecified && ii.id != integ_id::none && ii.wireshark_name == f[6].text) { in = ii.id; found = true; }
    if (!found) return fail(f[6].offset, f[6].length, "unknown Wireshark authentication algorithm '" + f[6].text + "'");
  } else if (f[6].text != "NULL") {
    return fail(f[6].offset, f[6].length, "an AEAD's authentication is \"NULL\" in Wireshark");
  }
  e.suite = {*c, in};
  if (const auto k = check_keys(e, f[5], f[7])) return *k;
  return e;
}

// An SA configuration as a line of Wireshark's esp_sa table, so a capture of the tunnel
// can be decrypted:
//   tshark -o esp.enable_encryption_decode:TRUE -o 'uat:esp_sa:<line>' -r capture.pcap
// Empty if Wireshark (4.0) cannot decrypt this suite (CCM, GMAC, ChaCha20, XCBC, CMAC).
inline std::string wireshark_sa(const esp_sa_config& c, bool ipv6, std::string_view src, std::string_view dst) {
  const std::string_view enc = c.suite.c().wireshark_name;
  const std::string_view auth = c.suite.c().aead ? std::string_view("NULL") : c.suite.i().wireshark_name;
  if (enc.empty() || auth.empty()) return {};
  auto hex = [](const_byte_span b) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s = "0x";
    for (auto x : b) { s += digits[x >> 4]; s += digits[x & 15]; }
    return s;
  };
  char spi[16];
  std::snprintf(spi, sizeof spi, "0x%08x", c.spi);
  return std::string("\"") + (ipv6 ? "IPv6" : "IPv4") + "\",\"" + std::string(src) + "\",\"" + std::string(dst) + "\",\"" + spi +
         "\",\"" + std::string(enc) + "\",\"" + hex(c.keys.encryption) + "\",\"" + std::string(auth) + "\",\"" +
         (c.keys.integrity.empty() ? std::string() : hex(c.keys.integrity)) + "\"";
}

inline std::string wireshark_sa(const sa_entry& e) { return wireshark_sa(e.config(), e.ipv6, e.src, e.dst); }

}  // namespace v0
}  // namespace encap
