// encap/pcap.hpp — write packets to a classic pcap file (LINKTYPE_RAW: each record is
// an IPv4 or IPv6 packet), so Wireshark and tshark can read what encap builds.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>

namespace encap {
inline namespace v0 {

class pcap_writer {
 public:
  explicit pcap_writer(const char* path) : f_(std::fopen(path, "wb")) {
    if (!f_) return;
    const std::uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u /* 2.4, as two LE u16 */, 0, 0, 65535, 101 /* LINKTYPE_RAW */};
    std::fwrite(hdr, sizeof hdr, 1, f_);
  }
  pcap_writer(const pcap_writer&) = delete;
  pcap_writer& operator=(const pcap_writer&) = delete;
  ~pcap_writer() { if (f_) std::fclose(f_); }

  explicit operator bool() const noexcept { return f_ != nullptr; }

  void write(std::span<const std::uint8_t> packet, std::uint32_t seconds = 0, std::uint32_t micros = 0) {
    if (!f_) return;
    const std::uint32_t rec[4] = {seconds, micros, static_cast<std::uint32_t>(packet.size()), static_cast<std::uint32_t>(packet.size())};
    std::fwrite(rec, sizeof rec, 1, f_);
    std::fwrite(packet.data(), 1, packet.size(), f_);
  }

 private:
  std::FILE* f_;
};

}  // namespace v0
}  // namespace encap
