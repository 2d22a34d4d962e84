// encap/layers/openvpn.hpp — OpenVPN's data channel packets (OpenVPN 2.4+ with TLS; the
// layouts in OpenVPN's src/openvpn/crypto.c, openvpn_encrypt_aead / openvpn_encrypt_v1,
// and its protocol overview doc/doxygen/doc_protocol_overview.h):
//   opcode and key ID (1), peer ID (3) for P_DATA_V2 (the default since 2.4); 1 for V1
//   AEAD (AES-GCM, ChaCha20-Poly1305): packet ID (4, the nonce's counter), tag (16), then
//     the ciphertext, no padding
//   CBC + HMAC: HMAC (20 SHA1 .. 64 SHA512), IV (the cipher's block), then the ciphertext
//     of packet ID (4) + payload + PKCS#7 padding (1..block bytes: at least one)
//   compression framing ("compress" stub, "comp-lzo no"): 1 byte inside the encryption
// Over TCP each packet is behind a 2-byte length (layering.hpp). Sizing only.
#pragma once

#include <array>
#include <string_view>

#include "../sizing.hpp"

namespace encap {
inline namespace v0 {

struct openvpn_cipher { std::string_view name; bool aead; std::size_t block; };
struct openvpn_auth { std::string_view name; std::size_t size; };

inline constexpr std::array<openvpn_cipher, 8> openvpn_ciphers{{
    {"aes-128-gcm", true, 1}, {"aes-192-gcm", true, 1}, {"aes-256-gcm", true, 1}, {"chacha20-poly1305", true, 1},
    {"aes-128-cbc", false, 16}, {"aes-192-cbc", false, 16}, {"aes-256-cbc", false, 16}, {"bf-cbc", false, 8},
}};
inline constexpr std::array<openvpn_auth, 4> openvpn_auths{{{"sha1", 20}, {"sha256", 32}, {"sha384", 48}, {"sha512", 64}}};

inline constexpr std::size_t openvpn_opcode_v2_size = 4, openvpn_opcode_v1_size = 1;
inline constexpr std::size_t openvpn_packet_id_size = 4, openvpn_tag_size = 16;
inline constexpr std::uint16_t openvpn_comp_flag = 0x100, openvpn_v1_flag = 0x200;

// param: cipher index (bits 0-3), auth index (bits 4-7), the flags above
constexpr layer_rule openvpn_rule(std::size_t cipher, std::size_t auth = 0, bool comp = false, bool v1 = false) noexcept {
  const openvpn_cipher& c = openvpn_ciphers[cipher];
  const std::size_t op = v1 ? openvpn_opcode_v1_size : openvpn_opcode_v2_size;
  const std::uint16_t param = static_cast<std::uint16_t>(cipher | auth << 4 | (comp ? openvpn_comp_flag : 0) |
                                                         (v1 ? openvpn_v1_flag : 0));
  if (c.aead)
    return {.kind = layer_kind::openvpn, .header_size = op + openvpn_packet_id_size + openvpn_tag_size,
            .body_extra = comp ? 1u : 0u, .param = param};
  return {.kind = layer_kind::openvpn, .header_size = op + openvpn_auths[auth].size + c.block, .align = c.block,
          .body_extra = openvpn_packet_id_size + (comp ? 1u : 0u) + 1 /* at least one PKCS#7 byte */, .param = param};
}

}  // namespace v0
}  // namespace encap
