// bench/dpdk_ipsec.hpp — DPDK's librte_ipsec, the peer library encap-bench measures encap
// against, behind an interface free of DPDK headers (dpdk_ipsec.cpp is its own translation
// unit: DPDK's headers want C-style code, -march=corei7 and rte_config.h).
//
// One SA, ESP tunnel mode over IPv4, on the crypto_aesni_mb PMD (intel-ipsec-mb), in
// lookaside mode (crypto ops through the device's queue) or CPU-crypto mode (synchronous).
// Packets live in the SA's own mbufs: load() copies one in (untimed), run() processes a
// block in bursts (timed), packet() reads the result.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace dpdk_side {

// Starts the EAL once (no hugepages, no PCI, the crypto_aesni_mb vdev). False, with why, when
// it cannot: then the DPDK benchmarks say so and skip.
bool start(std::string& why);

struct sa_params {
  bool gcm = true;                          // AES-GCM-16, else AES-CBC + HMAC-SHA1-96
  std::span<const std::uint8_t> cipher_key;  // GCM: key || 4-byte salt (RFC 4106 §8.1)
  std::span<const std::uint8_t> auth_key;    // HMAC-SHA1: 20 bytes
  std::uint32_t spi = 0;
  std::array<std::uint8_t, 4> src{}, dst{};  // the outer header (outbound)
  bool inbound = false;
  bool cpu_crypto = false;                   // RTE_SECURITY_ACTION_TYPE_CPU_CRYPTO, else lookaside
  std::uint32_t replay_window = 64;          // anti-replay on, as encap's
};

class sa {
 public:
  static constexpr std::size_t block = 32;  // packets held at once
  explicit sa(const sa_params& p);           // throws std::runtime_error with DPDK's reason
  ~sa();
  sa(const sa&) = delete;
  sa& operator=(const sa&) = delete;

  void load(std::size_t i, std::span<const std::uint8_t> packet);  // into mbuf i
  // Processes mbufs [0, n) in calls of `burst` packets; returns how many succeeded.
  std::size_t run(std::size_t n, std::size_t burst);
  std::span<std::uint8_t> packet(std::size_t i);  // mbuf i's data
  void reset();  // a fresh SA: sequence numbers and the replay window from zero

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

}  // namespace dpdk_side
