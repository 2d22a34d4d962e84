// encap/crypto/suite_names.hpp — ESP suite names as users write them, in four dialects,
// to one esp_suite. One parser for the spec grammar, the CLI, the examples and the tests.
//
//   encap         aes-256-gcm-16 · aes-256-cbc,hmac-sha1-96 · aes-256-gcm (ICV 16)
//                 (crypto/suites.hpp; the IANA IKEv2 Transform Type 1 and 3 registries)
//   strongSwan    aes256gcm16 · aes128gcm8 · aes256-sha256 · aes128-sha1 · chacha20poly1305 ·
//                 aes128ccm16 · aes256gmac · aes128ctr-sha256, with -esn/-noesn; key
//                 exchange groups (modp2048, ecp384, x25519, ...) and PRFs are accepted and
//                 noted as irrelevant to the data path (strongSwan's proposal keywords,
//                 src/libstrongswan/crypto/proposal/proposal_keywords_static.txt, 5.9)
//   Cisco IOS     esp-aes 256 esp-sha-hmac · esp-gcm 256 · esp-aes esp-sha256-hmac ·
//                 esp-null esp-sha-hmac ("crypto ipsec transform-set", Cisco IOS Security
//                 Command Reference: Commands C; GCM and GMAC carry a 16-byte ICV there)
//   Linux xfrm    rfc4106(gcm(aes)) 128 · cbc(aes) hmac(sha256) 128 ·
//                 rfc7539esp(chacha20,poly1305) 128 (the kernel's algorithm names,
//                 net/xfrm/xfrm_algo.c, with ip-xfrm(8)'s ICV and truncation bits; the AES
//                 key size comes from the key's length: keymat_bytes)
//
// An unknown name gets the nearest valid spellings. Setup-time code: it allocates.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "../text_error.hpp"
#include "suite_aliases.hpp"
#include "suites.hpp"

namespace encap {
inline namespace v0 {

struct named_suite {
  esp_suite suite{};
  std::optional<bool> esn;          // strongSwan's -esn / -noesn, when given
  std::string_view dialect;         // "encap", "strongSwan", "Cisco IOS", "Linux xfrm"
  std::vector<std::string> notes;   // what was accepted but does not shape the data path
};

namespace detail::names {

struct tok {
  std::string text;       // lower case
  std::size_t offset = 0;
  std::size_t length = 0;
};

inline std::vector<tok> split(std::string_view s, std::string_view seps) {
  std::vector<tok> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && seps.find(s[i]) != std::string_view::npos) ++i;
    const std::size_t b = i;
    int depth = 0;  // xfrm names nest parentheses with commas inside
    while (i < s.size() && (depth > 0 || seps.find(s[i]) == std::string_view::npos)) {
      depth += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
      ++i;
    }
    if (i > b) {
      tok t{std::string(s.substr(b, i - b)), b, i - b};
      for (char& c : t.text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.push_back(std::move(t));
    }
  }
  return out;
}

inline std::optional<cipher_id> find_cipher(cipher_mode m, std::size_t key_bytes, std::size_t icv) {
  for (const auto& c : ciphers)
    if (c.mode == m && c.key_size == key_bytes && (icv == 0 || c.icv_size == icv)) return c.id;
  return std::nullopt;
}

inline std::optional<std::size_t> number(std::string_view s) {
  std::size_t n = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
  return n;
}

inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0u : 1u)});
      diag = up;
    }
  }
  return row[b.size()];
}

// strongSwan's ESP encryption keywords: aes{128,192,256}[ctr|gcm{8,12,16,64,96,128}|ccm..|gmac],
// 3des, chacha20poly1305, null.
inline std::optional<cipher_id> strongswan_cipher(std::string_view t) {
  if (t == "3des") return cipher_id::des3_cbc;
  if (t == "chacha20poly1305") return cipher_id::chacha20_poly1305;
  if (t == "null") return cipher_id::null;
  if (t.substr(0, 3) != "aes" || t.size() < 6) return std::nullopt;
  const auto bits = number(t.substr(3, 3));
  if (!bits || (*bits != 128 && *bits != 192 && *bits != 256)) return std::nullopt;
  const std::size_t key = *bits / 8;
  const std::string_view rest = t.substr(6);
  if (rest.empty()) return find_cipher(cipher_mode::cbc, key, 0);
  if (rest == "ctr") return find_cipher(cipher_mode::ctr, key, 0);
  if (rest == "gmac") return find_cipher(cipher_mode::gmac, key, 0);
  for (auto [name, mode] : {std::pair{std::string_view("gcm"), cipher_mode::gcm}, std::pair{std::string_view("ccm"), cipher_mode::ccm}}) {
    if (rest.substr(0, 3) != name) continue;
    const auto icv = number(rest.substr(3));
    if (!icv) return std::nullopt;
    const std::size_t bytes = *icv >= 64 ? *icv / 8 : *icv;  // aes128gcm16 and aes128gcm128 alike
    if (bytes != 8 && bytes != 12 && bytes != 16) return std::nullopt;
    return find_cipher(mode, key, bytes);
  }
  return std::nullopt;
}

inline std::optional<integ_id> strongswan_integ(std::string_view t) {
  if (t == "md5") return integ_id::hmac_md5_96;
  if (t == "sha1" || t == "sha") return integ_id::hmac_sha1_96;
  if (t == "sha256" || t == "sha2_256") return integ_id::hmac_sha256_128;
  if (t == "sha384" || t == "sha2_384") return integ_id::hmac_sha384_192;
  if (t == "sha512" || t == "sha2_512") return integ_id::hmac_sha512_256;
  if (t == "aesxcbc") return integ_id::aes_xcbc_96;
  if (t == "aescmac") return integ_id::aes_cmac_96;
  return std::nullopt;
}

inline bool strongswan_group(std::string_view t) {
  for (std::string_view p : {"modp", "ecp", "curve", "x25519", "x448", "ntru", "newhope", "ke1_", "ke2_", "mlkem"})
    if (t.substr(0, p.size()) == p) return true;
  return false;
}

// Every spelling this parser accepts (the candidates for "did you mean").
inline std::vector<std::string> spellings() {
  std::vector<std::string> v;
  for (const auto& [s, n] : suite_aliases) v.emplace_back(n);
  for (const auto& c : ciphers) v.emplace_back(c.name);
  for (const char* b : {"128", "192", "256"}) {
    const std::string a = std::string("aes") + b;
    for (const char* x : {"", "ctr", "gmac", "gcm8", "gcm12", "gcm16", "ccm8", "ccm12", "ccm16"}) v.push_back(a + x);
    v.push_back(std::string("aes-") + b + "-gcm");
  }
  for (const char* s : {"3des", "chacha20poly1305", "md5", "sha1", "sha256", "sha384", "sha512", "aesxcbc", "aescmac", "esn", "noesn",
                        "esp-aes", "esp-gcm", "esp-gmac", "esp-3des", "esp-null", "esp-md5-hmac", "esp-sha-hmac", "esp-sha256-hmac",
                        "esp-sha384-hmac", "esp-sha512-hmac", "rfc4106(gcm(aes))", "rfc4309(ccm(aes))", "rfc4543(gcm(aes))",
                        "rfc7539esp(chacha20,poly1305)", "rfc3686(ctr(aes))", "cbc(aes)", "cbc(des3_ede)", "ecb(cipher_null)",
                        "hmac(md5)", "hmac(sha1)", "hmac(sha256)", "hmac(sha384)", "hmac(sha512)", "xcbc(aes)", "cmac(aes)"})
    v.emplace_back(s);
  return v;
}

inline std::string nearest(std::string_view t) {
  std::vector<std::tuple<std::size_t, std::size_t, std::string>> scored;  // distance, order in the list, spelling
  for (auto& s : spellings()) scored.emplace_back(edit_distance(t, s), scored.size(), std::move(s));
  std::sort(scored.begin(), scored.end());  // (not stable_sort: its buffer is a nothrow new, which some hosts replace)
  const std::size_t limit = std::max<std::size_t>(2, t.size() / 3);
  std::string out;
  std::size_t n = 0;
  for (const auto& [d, order, s] : scored) {
    if (d > limit || n == 3) break;
    if (out.find("'" + s + "'") != std::string::npos) continue;
    out += (n++ ? ", '" : "'") + s + "'";
  }
  return out.empty() ? std::string() : "; did you mean " + out + "?";
}

class parser {
 public:
  parser(std::string_view text, std::size_t keymat) : text_(text), keymat_(keymat) {}

  parsed<named_suite> run() {
    std::string lower(text_);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto t = split(text_, " \t");
    if (t.empty()) return fail({"", 0, 0}, "empty suite name");
    if (lower.find('(') != std::string::npos) return xfrm(t);
    if (t[0].text.substr(0, 4) == "esp-" || t[0].text.substr(0, 3) == "ah-" || t[0].text == "crypto") return cisco(t);
    if (t.size() > 1) return fail(t[1], "one suite name without spaces (or a Cisco transform set: esp-aes 256 esp-sha-hmac)");
    if (auto e = encap_name(); e) return *e;
    return strongswan(split(text_, "-"));
  }

 private:
  std::string_view text_;
  std::size_t keymat_;

  parsed<named_suite> fail(const tok& t, std::string msg) const { return text_error{t.offset, t.length, std::move(msg)}; }
  parsed<named_suite> unknown(const tok& t, std::string_view what) const {
    return fail(t, "unknown " + std::string(what) + " '" + t.text + "'" + nearest(t.text));
  }
  parsed<named_suite> done(esp_suite s, std::string_view dialect, const tok& at, std::vector<std::string> notes = {},
                           std::optional<bool> esn = std::nullopt) const {
    if (const suite_error e = s.check(); e != suite_error::ok) return fail(at, std::string(to_string(e)));
    return named_suite{s, esn, dialect, std::move(notes)};
  }

  // encap's own: "cipher[,integrity]", as the spec writes it; aes-N-gcm / aes-N-ccm mean ICV 16.
  std::optional<parsed<named_suite>> encap_name() const {
    const auto parts = split(text_, ",");
    if (parts.empty() || parts.size() > 2) return std::nullopt;
    std::optional<cipher_id> c;
    std::vector<std::string> notes;
    for (const auto& ci : ciphers)
      if (ci.name == parts[0].text) c = ci.id;
    for (std::string_view m : {"gcm", "ccm"})
      if (!c && parts[0].text.size() == 11 && parts[0].text.substr(0, 4) == "aes-" && parts[0].text.substr(8) == m) {
        const auto bits = number(parts[0].text.substr(4, 3));
        if (bits && (*bits == 128 || *bits == 192 || *bits == 256)) {
          c = find_cipher(m == "gcm" ? cipher_mode::gcm : cipher_mode::ccm, *bits / 8, 16);
          notes.push_back(parts[0].text + " is " + parts[0].text + "-16: a 16-byte ICV, as IKEv2 proposals and vendors default");
        }
      }
    if (!c) {
      if (parts.size() == 2) return unknown(parts[0], "cipher");
      return std::nullopt;  // perhaps strongSwan's
    }
    integ_id i = integ_id::unspecified;
    if (parts.size() == 2) {
      const auto& n = parts[1].text;
      bool found = false;
      for (const auto& ii : integrities)
        if (!ii.name.empty() && ii.name == n) { i = ii.id; found = true; }
      if (!found) return unknown(parts[1], "integrity algorithm");
    }
    return done({*c, i}, "encap", parts.size() == 2 ? parts[1] : parts[0], std::move(notes));
  }

  parsed<named_suite> strongswan(const std::vector<tok>& t) const {
    std::optional<cipher_id> c;
    const tok* c_at = nullptr;
    std::optional<integ_id> i;
    std::optional<bool> esn;
    std::vector<std::string> notes;
    for (const auto& x : t) {
      if (auto ci = strongswan_cipher(x.text)) {
        if (c) return fail(x, "a second encryption algorithm: a proposal offering a choice is negotiated to one; name the one the SA uses");
        c = ci;
        c_at = &x;
      } else if (auto ii = strongswan_integ(x.text)) {
        if (i) return fail(x, "a second integrity algorithm: name the one the SA uses");
        i = ii;
      } else if (x.text == "esn" || x.text == "noesn") {
        esn = x.text == "esn";
      } else if (x.text == "sha256_96" || x.text == "sha2_256_96") {
        return fail(x, "HMAC-SHA-256-96 (strongSwan's sha256_96, the pre-RFC 4868 truncation) is not supported: use sha256 (128 bits)");
      } else if (strongswan_group(x.text)) {
        notes.push_back(x.text + ": a key exchange (Diffie-Hellman) group, irrelevant to the data path");
      } else if (x.text.substr(0, 3) == "prf") {
        notes.push_back(x.text + ": an IKE pseudo-random function, irrelevant to the data path");
      } else if (&x == &t.front()) {  // nothing recognised: the whole name is unknown
        tok whole{std::string(text_), 0, text_.size()};
        for (char& ch : whole.text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return unknown(whole, "suite name");
      } else {
        return unknown(x, "algorithm");
      }
    }
    if (!c) return fail(t.empty() ? tok{} : t[0], "no encryption algorithm in '" + std::string(text_) + "'");
    if (!info(*c).aead && *c != cipher_id::null && !i)
      return fail(*c_at, c_at->text + " needs an integrity algorithm, e.g. " + c_at->text + "-sha256");
    return done({*c, i.value_or(integ_id::unspecified)}, "strongSwan", *c_at, std::move(notes), esn);
  }

  parsed<named_suite> cisco(std::vector<tok> t) const {
    if (!t.empty() && t[0].text == "crypto") {  // crypto ipsec transform-set NAME ...
      if (t.size() < 4 || t[1].text != "ipsec" || t[2].text != "transform-set") return fail(t[0], "expected 'crypto ipsec transform-set NAME ...'");
      t.erase(t.begin(), t.begin() + 4);
    }
    std::optional<cipher_id> c;
    const tok* c_at = nullptr;
    integ_id i = integ_id::unspecified;
    for (std::size_t k = 0; k < t.size(); ++k) {
      const tok& x = t[k];
      std::optional<cipher_mode> m;
      if (x.text == "esp-aes") m = cipher_mode::cbc;
      else if (x.text == "esp-gcm") m = cipher_mode::gcm;
      else if (x.text == "esp-gmac") m = cipher_mode::gmac;
      if (m) {
        if (c) return fail(x, "a second encryption transform");
        std::size_t bits = 128;  // Cisco's default key size
        if (k + 1 < t.size() && number(t[k + 1].text)) {
          bits = *number(t[++k].text);
          if (bits != 128 && bits != 192 && bits != 256) return fail(t[k], "an AES key is 128, 192 or 256 bits");
        }
        c = find_cipher(*m, bits / 8, *m == cipher_mode::cbc ? 0 : 16);
        c_at = &x;
        continue;
      }
      if (x.text == "esp-3des" || x.text == "esp-null") {
        if (c) return fail(x, "a second encryption transform");
        c = x.text == "esp-3des" ? cipher_id::des3_cbc : cipher_id::null;
        c_at = &x;
        continue;
      }
      std::optional<integ_id> ii;
      if (x.text == "esp-md5-hmac") ii = integ_id::hmac_md5_96;
      else if (x.text == "esp-sha-hmac") ii = integ_id::hmac_sha1_96;
      else if (x.text == "esp-sha256-hmac") ii = integ_id::hmac_sha256_128;
      else if (x.text == "esp-sha384-hmac") ii = integ_id::hmac_sha384_192;
      else if (x.text == "esp-sha512-hmac") ii = integ_id::hmac_sha512_256;
      if (ii) {
        if (i != integ_id::unspecified) return fail(x, "a second integrity transform");
        i = *ii;
        continue;
      }
      if (x.text.substr(0, 3) == "ah-") return fail(x, "an AH transform: encap carries ESP only");
      if (x.text == "esp-des" || x.text == "esp-seal") return fail(x, x.text + ": not an ESP suite encap implements (single DES and SEAL are broken)");
      return unknown(x, "transform");
    }
    if (!c) {
      if (i != integ_id::unspecified) return fail(t[0], "an integrity transform alone: add the encryption transform (esp-null for none)");
      return fail(t.empty() ? tok{} : t[0], "no ESP transform");
    }
    if (*c == cipher_id::null && i == integ_id::unspecified) return fail(*c_at, "esp-null needs an integrity transform, e.g. esp-null esp-sha256-hmac");
    return done({*c, i}, "Cisco IOS", *c_at);
  }

  // "ALGO [ICV-BITS]" for AEAD, "ENC AUTH [TRUNC-BITS]" otherwise.
  parsed<named_suite> xfrm(const std::vector<tok>& t) const {
    const tok& a = t[0];
    struct aead { std::string_view name; cipher_mode mode; std::size_t salt; };
    for (const aead& x : {aead{"rfc4106(gcm(aes))", cipher_mode::gcm, 4}, aead{"rfc4309(ccm(aes))", cipher_mode::ccm, 3},
                          aead{"rfc4543(gcm(aes))", cipher_mode::gmac, 4}, aead{"rfc7539esp(chacha20,poly1305)", cipher_mode::chacha20_poly1305, 4}}) {
      if (a.text != x.name) continue;
      if (t.size() > 2) return fail(t[2], "an AEAD takes only its ICV length in bits");
      std::size_t icv = 16;
      if (t.size() == 2) {
        const auto bits = number(t[1].text);
        if (!bits || (*bits != 64 && *bits != 96 && *bits != 128)) return fail(t[1], "an ICV length is 64, 96 or 128 bits");
        icv = *bits / 8;
      } else if (x.mode == cipher_mode::gcm || x.mode == cipher_mode::ccm) {
        return fail(a, a.text + " needs its ICV length in bits (ip xfrm: aead " + a.text + " KEY ICV-BITS), e.g. '" + a.text + " 128'");
      }
      std::size_t key = 32;
      if (x.mode != cipher_mode::chacha20_poly1305) {
        if (!keymat_) return fail(a, "Linux xfrm names carry no AES key size: the key's length gives it; name the suite here, e.g. aes-256-gcm-16");
        key = keymat_ - x.salt;
      }
      const auto c = find_cipher(x.mode, key, icv);
      if (!c) return fail(a, a.text + " with a " + std::to_string(keymat_) + "-byte key (salt included) and a " + std::to_string(icv * 8) +
                                 "-bit ICV is no suite encap knows");
      return done({*c, integ_id::unspecified}, "Linux xfrm", a);
    }
    std::optional<cipher_mode> m;
    std::size_t salt = 0;
    if (a.text == "cbc(aes)") m = cipher_mode::cbc;
    else if (a.text == "rfc3686(ctr(aes))") { m = cipher_mode::ctr; salt = 4; }
    std::optional<cipher_id> c;
    if (a.text == "cbc(des3_ede)") c = cipher_id::des3_cbc;
    else if (a.text == "ecb(cipher_null)" || a.text == "cipher_null") c = cipher_id::null;
    else if (m) {
      if (!keymat_) return fail(a, "Linux xfrm names carry no AES key size: the key's length gives it; name the suite here, e.g. aes-256-cbc,hmac-sha256-128");
      c = find_cipher(*m, keymat_ - salt, 0);
      if (!c) return fail(a, a.text + " with a " + std::to_string(keymat_) + "-byte key is no AES key size");
    }
    if (!c) return unknown(a, "Linux xfrm algorithm");
    if (t.size() < 2) return fail(a, a.text + " needs an authentication algorithm, e.g. '" + a.text + " hmac(sha256) 128'");
    struct auth { std::string_view name; integ_id id; std::size_t kernel_default_bits; };
    for (const auth& x : {auth{"hmac(md5)", integ_id::hmac_md5_96, 96}, auth{"hmac(sha1)", integ_id::hmac_sha1_96, 96},
                          auth{"hmac(sha256)", integ_id::hmac_sha256_128, 96}, auth{"hmac(sha384)", integ_id::hmac_sha384_192, 192},
                          auth{"hmac(sha512)", integ_id::hmac_sha512_256, 256}, auth{"xcbc(aes)", integ_id::aes_xcbc_96, 96},
                          auth{"cmac(aes)", integ_id::aes_cmac_96, 96}}) {
      if (t[1].text != x.name) continue;
      const std::size_t want = info(x.id).icv_size * 8;
      std::size_t bits = x.kernel_default_bits;
      if (t.size() > 3) return fail(t[3], "unexpected after the truncation length");
      if (t.size() == 3) {
        const auto b = number(t[2].text);
        if (!b) return fail(t[2], "a truncation length in bits");
        bits = *b;
      }
      if (bits != want)
        return fail(t.size() == 3 ? t[2] : t[1],
                    std::string(x.name) + " truncated to " + std::to_string(bits) + " bits" +
                        (t.size() == 3 ? "" : " (the kernel's default for 'auth', net/xfrm/xfrm_algo.c)") + " is not " +
                        std::string(info(x.id).name) + ": use auth-trunc " + std::string(x.name) + " KEY " + std::to_string(want));
      return done({*c, x.id}, "Linux xfrm", t[1]);
    }
    return unknown(t[1], "Linux xfrm authentication algorithm");
  }
};

}  // namespace detail::names

// `keymat_bytes`: the length of the encryption key material (salt included), for the Linux
// xfrm names, which leave the AES key size to the key; 0 when there is no key.
inline parsed<named_suite> parse_suite_name(std::string_view text, std::size_t keymat_bytes = 0) {
  return detail::names::parser(text, keymat_bytes).run();
}

}  // namespace v0
}  // namespace encap
