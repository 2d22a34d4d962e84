// Fuzz target: IPv4/IPv6 parse-and-validate, the inner-packet peek, and RFC 6040 ECN.
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
  return 0;
}
