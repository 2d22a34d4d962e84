// gre-ipsec-tunnel — a small userspace GRE-over-IPsec tunnel endpoint built only on
// encap: inner packets from a TUN device, GRE over ESP tunnel mode to the peer over a
// raw IP socket (or ESP-in-UDP on port 4500 with --nat-t), static keys and addresses
// from flags or a config file. The tunnel MTU and the TCP MSS clamp come from the
// calculator unless given. Packets too big for the tunnel get ICMP "fragmentation
// needed" (DF) or are fragmented before encryption (no DF). SIGINT/SIGTERM stop it
// cleanly; counters are printed on exit.
//
//   gre-ipsec-tunnel --tun tun0 --local 192.0.2.1 --remote 192.0.2.2
//       --spi-out 0x1001 --spi-in 0x1002 --key-out HEX --auth-out HEX --key-in HEX --auth-in HEX
//   gre-ipsec-tunnel --config site-a.conf        (the same, as key = value lines)
//
// Linux only (TUN, raw sockets); needs CAP_NET_ADMIN and CAP_NET_RAW.
#include <encap/crypto/botan.hpp>
#include <encap/encap.hpp>
#include <encap/endpoint.hpp>
#include <encap/fragment.hpp>
#include <encap/icmp.hpp>
#include <encap/mss.hpp>

#include "tun.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace encap;

namespace {

volatile std::sig_atomic_t stop = 0;
void on_signal(int) { stop = 1; }

struct options {
  std::string tun = "tun0", suite = "aes-256-cbc,hmac-sha1-96";
  std::array<std::uint8_t, 4> local{}, remote{}, icmp_source{};
  std::array<std::uint8_t, 16> icmp6_source{};
  bool have_icmp_source = false, have_icmp6_source = false, nat_t = false, verbose = false;
  std::uint32_t spi_out = 0, spi_in = 0;
  std::vector<std::uint8_t> key_out, auth_out, key_in, auth_in;
  std::size_t underlay_mtu = 1500, tunnel_mtu = 0, mss = 0;
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "gre-ipsec-tunnel: %s\n", msg.c_str());
  std::exit(2);
}

std::vector<std::uint8_t> hex(const std::string& s, const char* what) {
  std::string h = s.rfind("0x", 0) == 0 ? s.substr(2) : s;
  if (h.size() % 2) die(std::string(what) + ": odd number of hex digits");
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < h.size(); i += 2) {
    char* end = nullptr;
    const std::string byte = h.substr(i, 2);
    const unsigned long v = std::strtoul(byte.c_str(), &end, 16);
    if (*end) die(std::string(what) + ": not hex: " + byte);
    out.push_back(static_cast<std::uint8_t>(v));
  }
  return out;
}

std::array<std::uint8_t, 4> addr(const std::string& s, const char* what) {
  std::array<std::uint8_t, 4> a{};
  if (inet_pton(AF_INET, s.c_str(), a.data()) != 1) die(std::string(what) + ": not an IPv4 address: " + s);
  return a;
}

std::array<std::uint8_t, 16> addr6(const std::string& s, const char* what) {
  std::array<std::uint8_t, 16> a{};
  if (inet_pton(AF_INET6, s.c_str(), a.data()) != 1) die(std::string(what) + ": not an IPv6 address: " + s);
  return a;
}

// A whole decimal or 0x-hex number in [lo, hi]; anything else is a clear error, not an abort.
std::uint64_t number(const std::string& v, const char* what, std::uint64_t lo, std::uint64_t hi) {
  std::size_t used = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(v, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (v.empty() || used != v.size() || v[0] == '-') die(std::string(what) + ": not a number: '" + v + "'");
  if (n < lo || n > hi) die(std::string(what) + ": " + v + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  return n;
}

void set(options& o, const std::string& k, const std::string& v) {
  if (k == "tun") o.tun = v;
  else if (k == "local") o.local = addr(v, "local");
  else if (k == "remote") o.remote = addr(v, "remote");
  else if (k == "icmp-source") { o.icmp_source = addr(v, "icmp-source"); o.have_icmp_source = true; }
  else if (k == "icmp6-source") { o.icmp6_source = addr6(v, "icmp6-source"); o.have_icmp6_source = true; }
  else if (k == "suite") o.suite = v;
  // SPIs 1..255 are reserved by IANA and 0 means none (RFC 4303 §2.1); 32 bits on the wire
  else if (k == "spi-out") o.spi_out = static_cast<std::uint32_t>(number(v, "spi-out", 256, 0xffffffffu));
  else if (k == "spi-in") o.spi_in = static_cast<std::uint32_t>(number(v, "spi-in", 256, 0xffffffffu));
  else if (k == "key-out") o.key_out = hex(v, "key-out");
  else if (k == "auth-out") o.auth_out = hex(v, "auth-out");
  else if (k == "key-in") o.key_in = hex(v, "key-in");
  else if (k == "auth-in") o.auth_in = hex(v, "auth-in");
  else if (k == "underlay-mtu") o.underlay_mtu = number(v, "underlay-mtu", 576, 65535);
  else if (k == "tunnel-mtu") o.tunnel_mtu = number(v, "tunnel-mtu", 68, 65535);
  else if (k == "mss") o.mss = number(v, "mss", 88, 65535);
  else if (k == "nat-t") o.nat_t = v != "0" && v != "false" && v != "no";
  else if (k == "verbose") o.verbose = v != "0";
  else die("unknown option '" + k + "'");
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::puts("usage: gre-ipsec-tunnel [--config FILE] --tun NAME --local A --remote B --spi-out N --spi-in N\n"
                "         --key-out HEX [--auth-out HEX] --key-in HEX [--auth-in HEX] [--suite S] [--nat-t]\n"
                "         [--underlay-mtu N] [--tunnel-mtu N] [--mss N] [--icmp-source A] [--icmp6-source A6] [--verbose]\n"
                "  suites: aes-256-cbc,hmac-sha1-96 (default), aes-256-gcm-16");
      std::exit(0);
    }
    if (a.rfind("--", 0) != 0) die("unexpected argument '" + a + "'");
    a = a.substr(2);
    if (a == "nat-t" || a == "verbose") { set(o, a, "1"); continue; }
    if (i + 1 >= argc) die("--" + a + " needs a value");
    if (a == "config") {
      std::ifstream in(argv[++i]);
      if (!in) die(std::string("cannot read ") + argv[i]);
      for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        const auto eq = line.find('=');
        if (eq == std::string::npos) die("config: expected key = value: " + line);
        auto trim = [](std::string s) { s.erase(0, s.find_first_not_of(" \t")); s.erase(s.find_last_not_of(" \t") + 1); return s; };
        set(o, trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
      }
      continue;
    }
    set(o, a, argv[++i]);
  }
  if (!o.spi_out || !o.spi_in || o.key_out.empty() || o.key_in.empty()) die("--spi-out, --spi-in, --key-out and --key-in are required");
  if (o.local == std::array<std::uint8_t, 4>{} || o.remote == std::array<std::uint8_t, 4>{}) die("--local and --remote are required");
  if (!o.have_icmp_source) o.icmp_source = o.local;
  // the same key both ways would reuse every (key, IV) pair across the directions: for
  // GCM that discloses the authentication key (RFC 4106 §8.1: one key per SA)
  if (o.key_out == o.key_in) die("--key-out and --key-in are the same key: each direction needs its own");
  if (o.spi_out == o.spi_in) die("--spi-out and --spi-in are the same SPI: each direction needs its own");
  return o;
}

int open_tun(const std::string& name, std::size_t mtu) {
  std::string why;
  const int fd = ::open_tun(name, mtu, why);
  if (fd < 0) die(why);
  return fd;
}

struct counters {
  std::uint64_t tun_in = 0, tun_in_bytes = 0, esp_out = 0, esp_out_bytes = 0;
  std::uint64_t esp_in = 0, esp_in_bytes = 0, tun_out = 0, tun_out_bytes = 0;
  std::uint64_t fragmented = 0, fragments = 0, icmp_sent = 0, icmp_limited = 0, mss_clamped = 0;
  std::map<std::string, std::uint64_t> encap_errors, decap_errors;
};

template <class Stack, class Suite>
int run(const options& o) {
  const esp_suite s = Suite::value;
  esp_sa<botan_backend> out({.spi = o.spi_out, .suite = s, .keys = {o.key_out, o.auth_out}});
  esp_sa<botan_backend> in({.spi = o.spi_in, .suite = s, .keys = {o.key_in, o.auth_in}});
  Stack st{};
  st.template get<0>().src = o.local;
  st.template get<0>().dst = o.remote;
  if constexpr (Stack::size == 5) {  // with NAT-T: ipv4 / udp / esp / ipv4 / gre
    st.template get<3>().src = o.local;
    st.template get<3>().dst = o.remote;
  } else {
    st.template get<2>().src = o.local;
    st.template get<2>().dst = o.remote;
  }
  endpoint ep(st, {.mtu = o.underlay_mtu}, &out, &in);
  const std::size_t tunnel_mtu = o.tunnel_mtu ? o.tunnel_mtu : ep.max_inner();
  if (tunnel_mtu == 0 || tunnel_mtu > ep.max_inner()) die("tunnel MTU " + std::to_string(tunnel_mtu) + " does not fit the underlay (max " + std::to_string(ep.max_inner()) + ")");
  const std::uint16_t mss4 = o.mss ? static_cast<std::uint16_t>(o.mss) : mss_clamp_ipv4(tunnel_mtu);
  const std::uint16_t mss6 = o.mss ? static_cast<std::uint16_t>(o.mss) : mss_clamp_ipv6(tunnel_mtu);

  // The TUN device takes whole underlay-MTU packets, so that oversized ones reach this
  // process and are answered (ICMP) or fragmented here, by encap, not by the kernel.
  const int tun = open_tun(o.tun, o.underlay_mtu);
  const int tx = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);  // IP_HDRINCL: we write the outer header
  const int rx = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, o.nat_t ? IPPROTO_UDP : IPPROTO_ESP);
  int udp_hold = -1;
  if (tx < 0 || rx < 0) die(std::string("raw socket: ") + std::strerror(errno));
  // room for bursts: a raw socket that overflows drops ESP (and Linux may answer the
  // peer with "protocol unreachable")
  const int rcvbuf = 8 << 20;
  if (setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (o.nat_t) {  // hold port 4500 so the kernel does not answer with port unreachable
    udp_hold = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(nat_t_port);
    std::memcpy(&a.sin_addr, o.local.data(), 4);
    if (bind(udp_hold, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die(std::string("bind 4500: ") + std::strerror(errno));
  }
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  std::memcpy(&peer.sin_addr, o.remote.data(), 4);

  char local_text[INET_ADDRSTRLEN], remote_text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, o.local.data(), local_text, sizeof local_text);
  inet_ntop(AF_INET, o.remote.data(), remote_text, sizeof remote_text);
  std::printf("gre-ipsec-tunnel: %s, %s -> %s, SPI out 0x%08x in 0x%08x%s\n", o.tun.c_str(), local_text, remote_text,
              o.spi_out, o.spi_in, o.nat_t ? ", ESP in UDP 4500" : "");
  std::printf("  stack %s, underlay MTU %zu: tunnel MTU %zu, MSS clamp %u (IPv4) %u (IPv6)\n", to_string(s).c_str(),
              o.underlay_mtu, tunnel_mtu, mss4, mss6);
  std::fflush(stdout);

  constexpr std::size_t head = Stack::headroom, tail = Stack::tailroom, room = head + 65536 + tail;
  std::vector<std::uint8_t> buf(room), rbuf(65536 + 64), icmp(1280);
  // pre-fragmentation: each fragment buffer holds one tunnel-MTU packet plus the stack's
  // room, and fragment_ipv4 gets exactly the space between them (it refuses what does not fit)
  std::vector<std::vector<std::uint8_t>> fbuf(64, std::vector<std::uint8_t>(head + tunnel_mtu + tail));
  std::vector<byte_span> fspans(64);
  token_bucket icmp_limit(100, 20);
  counters c;
  const auto t0 = std::chrono::steady_clock::now();

  auto send = [&](frame& f) {
    if (sendto(tx, f.begin(), f.size(), 0, reinterpret_cast<sockaddr*>(&peer), sizeof peer) == static_cast<ssize_t>(f.size())) {
      ++c.esp_out;
      c.esp_out_bytes += f.size();
    } else {
      ++c.encap_errors[std::string("send: ") + std::strerror(errno)];
    }
  };
  auto encap_and_send = [&](frame& f) {
    const auto r = ep.encap(f);
    if (r) { send(f); return errc::ok; }
    return r.err;
  };

  pollfd fds[2] = {{tun, POLLIN, 0}, {rx, POLLIN, 0}};
  while (!stop) {
    if (poll(fds, 2, 200) <= 0) continue;
    if (fds[0].revents & POLLIN) {  // from the hosts: encapsulate
      const ssize_t n = read(tun, buf.data() + head, 65536);
      if (n > 0) {
        ++c.tun_in;
        c.tun_in_bytes += static_cast<std::size_t>(n);
        byte_span pkt(buf.data() + head, static_cast<std::size_t>(n));
        c.mss_clamped += clamp_tcp_mss(pkt, (pkt[0] >> 4) == 6 ? mss6 : mss4);
        frame f(buf, head, static_cast<std::size_t>(n));
        errc e = static_cast<std::size_t>(n) > tunnel_mtu
                     ? (((pkt[0] >> 4) == 6 || (load_be16(&pkt[6]) & 0x4000)) ? errc::packet_too_big : errc::needs_fragmentation)
                     : encap_and_send(f);
        if (e == errc::packet_too_big) {
          const auto now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
          if (!icmp_limit.allow(now)) {
            ++c.icmp_limited;
          } else {
            // IPv6 (RFC 8201): Packet Too Big, from --icmp6-source; without one, a PMTUD
            // black hole would be silent, so it is counted as an error instead
            const auto m = (pkt[0] >> 4) == 4 ? build_icmp_frag_needed(icmp, pkt, static_cast<std::uint16_t>(tunnel_mtu), o.icmp_source)
                           : o.have_icmp6_source ? build_icmpv6_packet_too_big(icmp, pkt, static_cast<std::uint32_t>(tunnel_mtu), o.icmp6_source)
                                                 : result<std::size_t>(errc::packet_too_big);
            if (m && write(tun, icmp.data(), m.val) == static_cast<ssize_t>(m.val)) ++c.icmp_sent;
            else if (!m) ++c.encap_errors[std::string("no ICMP: ") + to_string(m.err) + ((pkt[0] >> 4) == 6 ? " (IPv6: give --icmp6-source)" : "")];
          }
        } else if (e == errc::needs_fragmentation) {
          for (std::size_t i = 0; i < fspans.size(); ++i) fspans[i] = byte_span(fbuf[i].data() + head, fbuf[i].size() - head - tail);
          const auto fr = fragment_ipv4(pkt, tunnel_mtu, fspans);
          if (!fr) {
            ++c.encap_errors[to_string(fr.err)];
          } else {
            ++c.fragmented;
            for (std::size_t i = 0; i < fr.val; ++i) {
              frame ff(fbuf[i], head, fspans[i].size());
              const errc fe = encap_and_send(ff);
              if (fe != errc::ok) ++c.encap_errors[to_string(fe)];
              else ++c.fragments;
            }
          }
        } else if (e != errc::ok) {
          ++c.encap_errors[to_string(e)];
        }
      }
    }
    if (fds[1].revents & POLLIN) {  // from the peer: decapsulate
      const ssize_t n = recv(rx, rbuf.data(), rbuf.size(), 0);
      if (n > 0) {
        // a raw socket delivers the IPv4 header: options make it longer than 20 bytes
        const std::size_t ihl = std::size_t{rbuf[0] & 0x0fu} * 4;
        if (static_cast<std::size_t>(n) < 20 || ihl < 20) continue;
        if (o.nat_t && (static_cast<std::size_t>(n) < ihl + 8 || load_be16(&rbuf[ihl + 2]) != nat_t_port)) continue;  // other UDP traffic
        if (std::memcmp(&rbuf[12], o.remote.data(), 4) != 0) continue;  // not from our peer
        ++c.esp_in;
        c.esp_in_bytes += static_cast<std::size_t>(n);
        frame f(rbuf, 0, static_cast<std::size_t>(n));
        const auto r = ep.decap(f);
        if (!r) {
          ++c.decap_errors[to_string(r.err)];
          if (o.verbose) std::fprintf(stderr, "decap: %s at layer %u\n", to_string(r.err), r.detail);
          continue;
        }
        c.mss_clamped += clamp_tcp_mss(f.data(), r.val.inner_version == 6 ? mss6 : mss4);
        if (write(tun, f.begin(), f.size()) == static_cast<ssize_t>(f.size())) {
          ++c.tun_out;
          c.tun_out_bytes += f.size();
        }
      }
    }
  }

  std::printf("gre-ipsec-tunnel: stopped\n");
  std::printf("  from tun: %llu packets, %llu bytes; ESP sent: %llu packets, %llu bytes\n", (unsigned long long)c.tun_in,
              (unsigned long long)c.tun_in_bytes, (unsigned long long)c.esp_out, (unsigned long long)c.esp_out_bytes);
  std::printf("  ESP received: %llu packets, %llu bytes; to tun: %llu packets, %llu bytes\n", (unsigned long long)c.esp_in,
              (unsigned long long)c.esp_in_bytes, (unsigned long long)c.tun_out, (unsigned long long)c.tun_out_bytes);
  std::printf("  pre-fragmented: %llu packets into %llu fragments; ICMP frag-needed sent: %llu (rate-limited: %llu); MSS clamped: %llu\n",
              (unsigned long long)c.fragmented, (unsigned long long)c.fragments, (unsigned long long)c.icmp_sent,
              (unsigned long long)c.icmp_limited, (unsigned long long)c.mss_clamped);
  for (const auto& [k, v] : c.encap_errors) std::printf("  encap error: %s: %llu\n", k.c_str(), (unsigned long long)v);
  for (const auto& [k, v] : c.decap_errors) std::printf("  decap error: %s: %llu\n", k.c_str(), (unsigned long long)v);
  std::fflush(stdout);
  ::close(tun);
  ::close(tx);
  ::close(rx);
  if (udp_hold >= 0) ::close(udp_hold);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    die(e.what());
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  using cbc = aes256_cbc_hmac_sha1_96;
  using gcm = aes256_gcm_16;
  try {
    if (o.suite == "aes-256-cbc,hmac-sha1-96")
      return o.nat_t ? run<decltype(ipv4{} / udp{} / esp<tunnel, cbc>{} / ipv4{} / gre{}), cbc>(o)
                     : run<decltype(ipv4{} / esp<tunnel, cbc>{} / ipv4{} / gre{}), cbc>(o);
    if (o.suite == "aes-256-gcm-16")
      return o.nat_t ? run<decltype(ipv4{} / udp{} / esp<tunnel, gcm>{} / ipv4{} / gre{}), gcm>(o)
                     : run<decltype(ipv4{} / esp<tunnel, gcm>{} / ipv4{} / gre{}), gcm>(o);
  } catch (const std::exception& e) {
    die(e.what());  // setup errors: key sizes, suites
  }
  die("unknown suite '" + o.suite + "' (aes-256-cbc,hmac-sha1-96 or aes-256-gcm-16)");
}
