// Fuzz target: IPv4/IPv6 parse-and-validate, the inner-packet peek, and RFC 6040 ECN.
#include <encap/fragment.hpp>
#include <encap/mss.hpp>
#include <encap/wire/ip.hpp>

#include <cstdlib>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace encap;
  const const_byte_span in(data, size);
  if (const auto h = parse_ipv4(in); h) {
    if (h.val.total_length > size || h.val.header_length > h.val.total_length || h.val.header_length < 20) std::abort();
  }
  if (const auto h = parse_ipv6(in); h) {
    if (40 + h.val.payload_length > size) std::abort();
  }
  if (const auto p = peek_ip(in); p) {
    if (p.val.length != size) std::abort();
    std::vector<std::uint8_t> copy(data, data + size);
    for (std::uint8_t outer = 0; outer < 4; ++outer) {
      const auto e = ecn_decap(p.val.tos & 3, outer);
      if (e) set_ecn(copy, e.val);
    }
    if (p.val.version == 4 && internet_checksum(data, 20) == 0 && internet_checksum(copy.data(), 20) != 0) std::abort();
  }
  {  // MSS clamping: never grows the packet, and never touches a non-SYN
    std::vector<std::uint8_t> copy(data, data + size);
    if (clamp_tcp_mss(copy, 536) && copy.size() != size) std::abort();
  }
  {  // pre-fragmentation into 576-byte buffers: every fragment fits
    std::vector<std::uint8_t> bufs(128 * 576);
    std::vector<byte_span> out;
    for (std::size_t i = 0; i < 128; ++i) out.emplace_back(bufs.data() + i * 576, 576);
    if (const auto r = fragment_ipv4(in, 576, out); r)
      for (std::size_t i = 0; i < r.val; ++i)
        if (out[i].size() > 576 || out[i].size() < 20) std::abort();
  }
  return 0;
}
