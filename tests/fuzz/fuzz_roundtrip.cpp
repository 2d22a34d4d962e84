// Fuzz target: authentic ESP packets with fuzzer-chosen contents, so the code after the
// integrity check is reached: the fuzzer picks the suite, the plaintext (inner packet or
// not), the pad length and whether the padding is well-formed, the next header, and
// corruptions of the inner IP header. The packet is sealed with the backend directly
// (a valid ICV), then decapsulated by the endpoint. Invariants: success returns exactly
// the bytes that were sealed as payload (less TFC padding) and no guard byte changes.
#include <encap/crypto/botan.hpp>
#include <encap/encap.hpp>
#include <encap/endpoint.hpp>

#include <cstdlib>
#include <cstring>
#include <vector>

using namespace encap;

namespace {

template <class Suite>
struct family {
  static constexpr esp_suite s = Suite::value;
  std::vector<std::uint8_t> ek = std::vector<std::uint8_t>(s.c().key_size + s.c().salt_size, 7);
  std::vector<std::uint8_t> ak = std::vector<std::uint8_t>(s.c().aead ? 0 : s.i().key_size, 9);
  esp_sa<botan_backend> sa{{.spi = 0x2002, .suite = s, .keys = {ek, ak}, .replay_window = 4096}};
  botan_backend crypto{s, {ek, ak}};
  endpoint<botan_backend, decltype(ipv4{} / esp<tunnel, Suite>{} / ipv4{})> ep{ipv4{} / esp<tunnel, Suite>{} / ipv4{}, {.mtu = 9000}, nullptr, &sa};
  std::uint32_t seq = 1;

  void run(const std::uint8_t* d, std::size_t n) {
    if (n < 4) return;
    const std::size_t pad_choice = d[0], mode = d[1];
    const std::uint8_t next_header = (mode & 1) ? d[2] : 4;
    const std::uint8_t* payload = d + 3;
    const std::size_t len = n - 3;
    const std::size_t align = s.align(), iv = s.iv_size(), icv = s.icv_size();
    const std::size_t min_pad = (align - (len + 2) % align) % align;
    std::size_t pad = (mode & 2) ? pad_choice : min_pad + align * (pad_choice % 4);
    if (pad > 255) pad = 255;
    std::size_t body = len + pad + 2;
    if (body % align) return;  // the fuzzer chose an unaligned body: nothing to learn
    const std::size_t esp_len = 8 + iv + body + icv, total = 20 + esp_len, guard = 16;
    std::vector<std::uint8_t> buf(total + 2 * guard, 0xcd);
    std::uint8_t* p = buf.data() + guard;
    write_ipv4(p, total, {{1, 1, 1, 1}, {2, 2, 2, 2}, static_cast<std::uint8_t>(mode >> 6), 64, ip_proto::esp, 0, false});
    std::uint8_t* e = p + 20;
    store_be32(e, 0x2002);
    store_be32(e + 4, seq++);
    for (std::size_t i = 0; i < iv; ++i) e[8 + i] = static_cast<std::uint8_t>(i + seq);
    std::uint8_t* b = e + 8 + iv;
    std::memcpy(b, payload, len);
    for (std::size_t i = 0; i < pad; ++i) b[len + i] = static_cast<std::uint8_t>((mode & 4) ? d[(i + 3) % n] : i + 1);
    b[len + pad] = static_cast<std::uint8_t>(pad);
    b[len + pad + 1] = next_header;
    if (crypto.seal({{e, esp_len}, iv, icv, false, 0}) != errc::ok) std::abort();
    frame f({p, total}, 0, total);
    const auto r = ep.decap(f);
    for (std::size_t i = 0; i < guard; ++i)
      if (buf[i] != 0xcd || buf[guard + total + i] != 0xcd) std::abort();
    if (!r) return;
    // accepted: an IPv4 packet, exactly the sealed payload's first bytes (TFC padding may follow)
    if (next_header != 4 || f.begin() != b || f.size() > len) std::abort();
    // RFC 6040 may change the ECN bits (byte 1) and so the header checksum (bytes 10, 11)
    if (std::memcmp(f.begin() + 2, payload + 2, 8) != 0 || std::memcmp(f.begin() + 12, payload + 12, f.size() - 12) != 0)
      std::abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static family<aes128_gcm_16> gcm;
  static family<aes128_cbc_hmac_sha1_96> cbc;
  static family<chacha20_poly1305> chacha;
  static family<aes128_ccm_16> ccm;
  static family<null_hmac_sha256_128> null;
  if (size < 1) return 0;
  switch (data[0] % 5) {
    case 0: gcm.run(data + 1, size - 1); break;
    case 1: cbc.run(data + 1, size - 1); break;
    case 2: chacha.run(data + 1, size - 1); break;
    case 3: ccm.run(data + 1, size - 1); break;
    default: null.run(data + 1, size - 1); break;
  }
  return 0;
}
