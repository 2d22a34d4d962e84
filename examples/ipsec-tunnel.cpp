// ipsec-tunnel — a generic user-space IPsec tunnel endpoint built on encap's run-time
// endpoint: inner packets from a TUN device, the stack from a spec string (plain IP in
// ESP or GRE over ESP, tunnel or transport, NAT-T), the SAs from `ip xfrm state` lines in
// a config file. Several SAs at once; SIGHUP re-reads the SA lines: SAs whose line did
// not change keep their state (sequence numbers, replay window) and their traffic is
// never interrupted; new ones are added, missing ones deleted, and the outbound SA is
// switched in one step (a rekey). SIGINT/SIGTERM stop it; counters are printed on exit.
//
//   ipsec-tunnel CONFIG
//
//   # CONFIG: key = value lines, and one SA per `ip xfrm state add ...` line
//   tun = encap0
//   stack = ipv4(src=192.0.2.2,dst=192.0.2.1)/udp(4500)/esp(aes256gcm16)/ipv4
//   underlay-mtu = 1500
//   peer-check = yes        # optional: inbound SAs open only their peer's packets
//   offload = no            # optional: no TSO on the TUN device, no UDP GSO/GRO (default yes)
//   ip xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0xc2000001 aead rfc4106(gcm(aes)) 0x... 128 replay-oseq 41
//   ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0xc1000001 aead rfc4106(gcm(aes)) 0x... 128
//
// An SA whose src is the stack's outer source is outbound (the last such line is the one
// used); one whose dst is that address is inbound. `replay-oseq N` continues an SA taken
// over from another implementation at sequence number N + 1; `replay-seq N` treats N and
// below as received. With `peer-check = yes` an inbound SA is bound to its line's src
// address and, with `encap espinudp SPORT ...`, that UDP source port (RFC 4301 §4.1,
// RFC 3948 §2.2): two peers may then use the same SPI, and a packet from anywhere else
// finds no SA. Without it (the default, as the kernel does) the SPI alone names the SA,
// so a peer behind a NAT that changes its port keeps working. IPv4 underlay: plain ESP on
// raw sockets, NAT-T on a UDP socket (udp_offload.hpp); Linux only; needs CAP_NET_ADMIN,
// and CAP_NET_RAW for plain ESP. Packets move in batches of up to 32 (recvmmsg/sendmmsg,
// the endpoint's bursts), on intel-ipsec-mb where the build has it and Botan otherwise.
// With `offload = yes` (the default) the TUN device offloads TCP segmentation
// (IFF_VNET_HDR, TSO: 64 KB reads cut here into tunnel-MTU segments) and takes coalesced
// segments back (GSO writes): tun_offload.hpp; and NAT-T sends each run of equal-size
// packets as one UDP_SEGMENT message and takes runs back with UDP_GRO.
#include <encap/crypto/botan.hpp>
#include <encap/encap.hpp>
#include <encap/mss.hpp>

#include "tun.hpp"
#include "tun_offload.hpp"
#include "udp_offload.hpp"
#include <encap/runtime_endpoint.hpp>
#include <encap/sa_config.hpp>
#include <encap/sa_table.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace encap;
#ifdef ENCAP_HAVE_IPSEC_MB  // intel-ipsec-mb where the build has it: bursts on its multi-buffer managers
#include <encap/crypto/ipsec_mb.hpp>
using backend = ipsec_mb_backend;
#else
using backend = botan_backend;
#endif

namespace {

volatile std::sig_atomic_t stop = 0, reload = 0;
void on_stop(int) { stop = 1; }
void on_hup(int) { reload = 1; }

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "ipsec-tunnel: %s\n", msg.c_str());
  std::exit(2);
}

struct config {
  std::string tun = "encap0", stack;
  std::size_t underlay_mtu = 1500;
  bool peer_check = false;
  bool offload = true;  // TSO on the TUN device (tun_offload.hpp), UDP GSO/GRO for NAT-T (udp_offload.hpp)
  std::vector<sa_entry> sas;
};

// Every error names the file, the line and the token.
std::optional<config> read_config(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) { error = path + ": cannot open"; return std::nullopt; }
  config c;
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    const auto at = [&](const text_error& e) { return path + ":" + std::to_string(no) + ": " + e.format(line); };
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    if (line.compare(first, 13, "ip xfrm state") == 0) {
      auto e = parse_xfrm_state(std::string_view(line).substr(first));
      if (!e) {
        text_error te = e.error();
        te.offset += first;
        error = at(te);
        return std::nullopt;
      }
      c.sas.push_back(e.value());
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) { error = at({first, line.size() - first, "expected 'key = value' or an 'ip xfrm state add' line"}); return std::nullopt; }
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t") + 1);
      return s;
    };
    const std::string k = trim(line.substr(0, eq)), v = trim(line.substr(eq + 1));
    if (k == "tun") c.tun = v;
    else if (k == "stack") c.stack = v;
    else if (k == "underlay-mtu") c.underlay_mtu = std::strtoul(v.c_str(), nullptr, 10);
    else if (k == "peer-check" && (v == "yes" || v == "no")) c.peer_check = v == "yes";
    else if (k == "peer-check") { error = at({line.find(v, eq), v.size(), "peer-check is 'yes' or 'no'"}); return std::nullopt; }
    else if (k == "offload" && (v == "yes" || v == "no")) c.offload = v == "yes";
    else if (k == "offload") { error = at({line.find(v, eq), v.size(), "offload is 'yes' or 'no'"}); return std::nullopt; }
    else { error = at({first, k.size(), "unknown key '" + k + "'; valid: tun, stack, underlay-mtu, peer-check, offload"}); return std::nullopt; }
  }
  if (c.stack.empty()) { error = path + ": no 'stack = ...'"; return std::nullopt; }
  return c;
}

int open_tun(const std::string& name, std::size_t mtu, bool vnet_hdr) {
  std::string why;
  const int fd = ::open_tun(name, mtu, why, vnet_hdr);
  if (fd < 0) die(why);
  return fd;
}

std::string addr4(const std::array<std::uint8_t, 4>& a) {
  char t[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, a.data(), t, sizeof t);
  return t;
}

// The SAs of one configuration, applied to the table and the outbound slot. SAs whose
// line is unchanged are kept as they are (state and all).
struct sa_state {
  sa_table<backend> inbound{64};
  using in_key = std::pair<std::uint32_t, std::string>;  // SPI, and the peer when bound ("" otherwise)
  std::map<in_key, sa_entry> in_lines;
  std::unique_ptr<esp_sa<backend>> outbound;
  std::optional<sa_entry> out_line;
  std::vector<std::unique_ptr<esp_sa<backend>>> retired;  // outbound SAs replaced by a rekey (kept: a burst may hold one)
};

bool same(const sa_entry& a, const sa_entry& b) {
  return a.spi == b.spi && a.src == b.src && a.encap_sport == b.encap_sport && a.suite == b.suite && a.encryption_key == b.encryption_key && a.integrity_key == b.integrity_key &&
         a.esn == b.esn && a.replay_window == b.replay_window;
}

// The peer an inbound SA is bound to with peer-check: the line's src and UDP source port.
std::optional<sa_peer> peer_of(const sa_entry& e, bool peer_check) {
  if (!peer_check) return std::nullopt;
  auto p = sa_peer::parse(e.src, e.encap_sport.value_or(0));
  if (!p) die("an SA's src '" + e.src + "' is not an address");
  return p;
}

void apply(sa_state& st, runtime_endpoint<backend>& ep, const config& c, const std::string& local, bool verbose) {
  std::optional<sa_entry> out;
  std::map<sa_state::in_key, sa_entry> in;
  for (const auto& e : c.sas) {
    if (e.src == local) out = e;
    else if (e.dst == local) in[{e.spi, c.peer_check ? e.src + ":" + std::to_string(e.encap_sport.value_or(0)) : ""}] = e;
    else std::fprintf(stderr, "ipsec-tunnel: SA 0x%08x is neither from nor to %s: ignored\n", e.spi, local.c_str());
  }
  for (auto it = st.in_lines.begin(); it != st.in_lines.end();) {  // deleted or changed
    const auto n = in.find(it->first);
    if (n == in.end() || !same(n->second, it->second)) {
      st.inbound.erase(it->first.first, peer_of(it->second, c.peer_check));
      if (verbose) std::printf("ipsec-tunnel: inbound SA 0x%08x deleted\n", it->first.first);
      it = st.in_lines.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [key, e] : in) {
    if (st.in_lines.count(key)) continue;
    auto& sa = st.inbound.add(e.config(), peer_of(e, c.peer_check));
    if (e.replay_seq && sa.restore_inbound(*e.replay_seq) != errc::ok) die("replay-seq out of range for SA " + std::to_string(e.spi));
    st.in_lines[key] = e;
    std::printf("ipsec-tunnel: inbound SA 0x%08x %s%s\n", e.spi, to_string(e.suite).c_str(),
                key.second.empty() ? "" : (" from " + key.second).c_str());
  }
  if (out && !(st.out_line && same(*st.out_line, *out))) {
    auto sa = std::make_unique<esp_sa<backend>>(out->config());
    if (out->replay_oseq && sa->set_next_seq(*out->replay_oseq + 1) != errc::ok) die("replay-oseq out of range");
    if (ep.set_outbound(sa.get()) != errc::ok) die("the outbound SA's suite does not fit the stack's ESP layer");
    if (st.outbound) st.retired.push_back(std::move(st.outbound));
    st.outbound = std::move(sa);
    st.out_line = out;
    std::printf("ipsec-tunnel: outbound SA 0x%08x %s, next sequence number %llu\n", out->spi, to_string(out->suite).c_str(),
                static_cast<unsigned long long>(st.outbound->next_seq()));
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 3 && std::string(argv[2]) == "-v")) die("usage: ipsec-tunnel CONFIG [-v]");
  const std::string path = argv[1];
  const bool verbose = argc == 3;
  std::string error;
  auto cfg = read_config(path, error);
  if (!cfg) die(error);
  const auto spec = parse_spec(cfg->stack);
  if (!spec) die("stack: " + spec.error().format(cfg->stack));
  if (spec->rules[0].kind != layer_kind::ipv4) die("stack: the outermost layer is ipv4 here (IPv4 sockets)");
  const bool nat_t = spec->rules.size() > 1 && spec->rules[1].kind == layer_kind::udp;
  const auto local = spec->values[0].v4.src, remote = spec->values[0].v4.dst;

  sa_state st;
  std::optional<runtime_endpoint<backend>> ep;
  try {
    ep.emplace(spec.value(), tunnel_options{.mtu = cfg->underlay_mtu}, nullptr, &st.inbound);
    apply(st, *ep, *cfg, addr4(local), verbose);
  } catch (const std::exception& e) {
    die(e.what());
  }
  const std::size_t tunnel_mtu = ep->max_inner();
  if (tunnel_mtu < 68) die("the underlay MTU leaves no room for inner packets");
  const std::uint16_t mss4 = mss_clamp_ipv4(tunnel_mtu), mss6 = mss_clamp_ipv6(tunnel_mtu);

  // TSO on the TUN device: the kernel's TCP hands over 64 KB super-packets, cut here
  // into tunnel-MTU segments (tun_offload.hpp); `offload = no` reads one packet a time
  const int tun = open_tun(cfg->tun, tunnel_mtu, cfg->offload);
  const bool tso = cfg->offload && tun_offload::enable(tun);
  const std::size_t vnet = cfg->offload ? tun_offload::vnet_hdr_size : 0;
  // Plain ESP: raw IPv4 sockets, encap writes the outer header (IP_HDRINCL). NAT-T: one
  // UDP socket on the local port, the kernel writes the outer headers, and runs of
  // packets move as one message each way (udp_offload.hpp; `offload = no`: one each).
  int tx = -1, rx = -1;
  const std::uint16_t local_port = nat_t ? spec->values[1].ports.src_port : 0;
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  std::memcpy(&peer.sin_addr, remote.data(), 4);
  bool gso = false, gro = false;
  if (nat_t) {
    tx = rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (tx < 0) die(std::string("UDP socket: ") + std::strerror(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(local_port);
    std::memcpy(&a.sin_addr, local.data(), 4);
    if (bind(tx, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("bind UDP " + std::to_string(local_port) + ": " + std::strerror(errno));
    peer.sin_port = htons(spec->values[1].ports.dst_port);
    const int on = 1;
    setsockopt(rx, IPPROTO_IP, IP_RECVTOS, &on, sizeof on);
    setsockopt(rx, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
    gso = cfg->offload;  // tried on the first run of two or more; off for good if the kernel refuses
    gro = cfg->offload && setsockopt(rx, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
  } else {
    tx = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    rx = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ESP);
    if (tx < 0 || rx < 0) die(std::string("raw socket: ") + std::strerror(errno));
  }
  const int rcvbuf = 8 << 20;
  if (setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  int df_mode = -1;  // the NAT-T socket's IP_MTU_DISCOVER: follows the DF bit encap wrote
  std::signal(SIGINT, on_stop);
  std::signal(SIGTERM, on_stop);
  std::signal(SIGHUP, on_hup);
  std::printf("ipsec-tunnel: %s, %s -> %s, stack %s, underlay MTU %zu: tunnel MTU %zu, MSS clamp %u/%u; TUN TSO %s, %s\n", cfg->tun.c_str(),
              addr4(local).c_str(), addr4(remote).c_str(), to_string(spec.value()).c_str(), cfg->underlay_mtu, tunnel_mtu, mss4, mss6,
              tso ? "on" : "off", !nat_t ? "raw IPv4 sockets" : gro ? "UDP socket, GSO and GRO" : gso ? "UDP socket, GSO" : "UDP socket");
  std::fflush(stdout);

  // Batches of up to `batch` packets each way: drained from the TUN device, encapsulated in
  // one encap_burst and sent in one sendmmsg; received in one recvmmsg, opened in one
  // decap_burst. No allocation per packet: the buffers are made here, once.
  constexpr std::size_t batch = 32, room = 65536;
  const std::size_t head = ep->headroom(), tail = ep->tailroom(), stride = head + room + tail;
  std::vector<std::uint8_t> tx_buf(stride * batch), rx_buf((room + 64) * batch), stage(room + 64);
  std::vector<frame> tx_frames(batch), rx_frames(batch);
  std::vector<result<byte_span>> sent(batch);
  std::vector<result<decap_info>> opened(batch);
  std::vector<mmsghdr> tx_msgs(batch), rx_msgs(batch);
  std::vector<const std::uint8_t*> inner_at(batch), out_at(batch);  // the packets decap opened / encap built, in order
  std::vector<std::size_t> inner_size(batch), inner_frame(batch), out_size(batch), msg_packets(batch);
  std::vector<iovec> tx_iov(batch), rx_iov(batch);
  // NAT-T: what the kernel says of each received message and each sent run, where the
  // datagrams are cut into and the sender's address
  std::vector<std::uint8_t> tx_control(udp_offload::control_size * batch), rx_control(udp_offload::control_size * batch),
      seg_buf(nat_t ? (room + 64) * batch : 0);
  std::vector<sockaddr_in> rx_from(batch);
  for (std::size_t i = 0; i < batch; ++i) {
    rx_iov[i] = {rx_buf.data() + i * (room + 64), room + 64};
    rx_msgs[i].msg_hdr.msg_iov = &rx_iov[i];
    rx_msgs[i].msg_hdr.msg_iovlen = 1;
    if (nat_t) {  // the sender's address and the kernel's word on each message (lengths reset per call)
      rx_msgs[i].msg_hdr.msg_name = &rx_from[i];
      rx_msgs[i].msg_hdr.msg_control = rx_control.data() + i * udp_offload::control_size;
    }
  }
  fcntl(tun, F_SETFL, fcntl(tun, F_GETFL) | O_NONBLOCK);
  std::uint64_t tun_in = 0, esp_out = 0, esp_in = 0, tun_out = 0, reloads = 0, msgs_out = 0, msgs_in = 0;
  std::map<std::string, std::uint64_t> encap_errors, decap_errors;
  pollfd fds[2] = {{tun, POLLIN, 0}, {rx, POLLIN, 0}};
  while (!stop) {
    if (reload) {
      reload = 0;
      auto next = read_config(path, error);
      if (!next) std::fprintf(stderr, "ipsec-tunnel: reload refused, the SAs stay as they were: %s\n", error.c_str());
      else if (next->stack != cfg->stack || next->tun != cfg->tun || next->underlay_mtu != cfg->underlay_mtu ||
               next->peer_check != cfg->peer_check || next->offload != cfg->offload)
        std::fprintf(stderr, "ipsec-tunnel: reload changes only SA lines; restart for a new stack, TUN, MTU, peer-check or offload\n");
      else {
        try {
          apply(st, *ep, *next, addr4(local), true);
          cfg = std::move(next);
          ++reloads;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "ipsec-tunnel: reload: %s\n", e.what());
        }
      }
    }
    if (poll(fds, 2, 200) <= 0) continue;
    if (fds[0].revents & POLLIN) {  // from the hosts: encapsulate
      std::size_t n = 0;
      auto flush = [&] {  // the batch: one encap_burst, one sendmmsg (or a few, if the socket takes part)
        ep->encap_burst({tx_frames.data(), n}, {sent.data(), n});
        std::size_t m = 0;
        for (std::size_t i = 0; i < n; ++i) {
          if (!sent[i]) {
            ++encap_errors[to_string(sent[i].error())];
            continue;
          }
          out_at[m] = tx_frames[i].begin();
          out_size[m++] = tx_frames[i].size();
        }
        std::size_t msgs = 0;
        auto send = [&] {  // the messages made so far
          for (std::size_t done = 0; done < msgs;) {
            const int k = sendmmsg(tx, tx_msgs.data() + done, static_cast<unsigned>(msgs - done), 0);
            if (k <= 0) {
              std::size_t lost = 0;
              for (std::size_t j = done; j < msgs; ++j) lost += msg_packets[j];
              if (gso && (errno == EIO || errno == EINVAL)) {
                gso = false;  // this kernel or device will not segment UDP: one packet a message from now on
                std::fprintf(stderr, "ipsec-tunnel: UDP segmentation refused (%s): off\n", std::strerror(errno));
              }
              encap_errors[std::string("send: ") + std::strerror(errno)] += lost;
              break;
            }
            for (int j = 0; j < k; ++j) esp_out += msg_packets[done + static_cast<std::size_t>(j)];
            done += static_cast<std::size_t>(k);
            msgs_out += static_cast<std::uint64_t>(k);
          }
          msgs = 0;
        };
        for (std::size_t i = 0; i < m;) {
          // plain ESP: one packet a message, outer header and all; NAT-T: a run a message,
          // from past the outer headers
          const auto r = nat_t ? udp_offload::next_run(out_at.data(), out_size.data(), m, i, gso ? udp_offload::max_segments : 1)
                               : udp_offload::run{i, 1, 0, 0, false};
          const std::size_t skip = nat_t ? udp_offload::outer : 0;
          if (const int mode = r.df ? IP_PMTUDISC_PROBE : IP_PMTUDISC_DONT; nat_t && mode != df_mode) {  // DF as encap wrote it
            send();
            setsockopt(tx, IPPROTO_IP, IP_MTU_DISCOVER, &mode, sizeof mode);
            df_mode = mode;
          }
          msghdr& h = tx_msgs[msgs].msg_hdr;
          h = {};
          h.msg_name = &peer;
          h.msg_namelen = sizeof peer;
          h.msg_iov = &tx_iov[i];
          h.msg_iovlen = r.count;
          for (std::size_t k = i; k < i + r.count; ++k) tx_iov[k] = {const_cast<std::uint8_t*>(out_at[k]) + skip, out_size[k] - skip};
          if (nat_t) udp_offload::set_run_cmsgs(h, tx_control.data() + msgs * udp_offload::control_size, r);
          msg_packets[msgs++] = r.count;
          i += r.count;
        }
        send();
        tun_in += n;
        n = 0;
      };
      // an inner packet of `len` bytes at slot n's `head`: clamped and taken into the batch
      auto take = [&](std::size_t len) {
        std::uint8_t* at = tx_buf.data() + n * stride;
        clamp_tcp_mss({at + head, len}, (at[head] >> 4) == 6 ? mss6 : mss4);
        tx_frames[n++] = frame({at, stride}, head, len);
      };
      // where the next inner packet goes: slot n's `head`, after sending a full batch
      auto next_slot = [&] {
        if (n == batch) flush();
        return tx_buf.data() + n * stride + head;
      };
      for (std::size_t reads = 0; reads < batch; ++reads) {
        std::uint8_t* slot = next_slot();
        if (!vnet) {  // straight into the next slot
          const ssize_t len = read(tun, slot, room);
          if (len <= 0) break;
          take(static_cast<std::size_t>(len));
          continue;
        }
        // with offload, a read is most often a super-packet whose segments fill several
        // slots: read it aside, and copy only what is not cut
        const ssize_t len = read(tun, stage.data(), stage.size());
        if (len <= 0) break;
        auto v = tun_offload::parse(stage.data(), static_cast<std::size_t>(len));
        auto* p = const_cast<std::uint8_t*>(v.p);
        const std::uint8_t gso = v.h.gso_type & static_cast<std::uint8_t>(~tun_offload::VIRTIO_NET_HDR_GSO_ECN);
        tun_offload::tcp_layout l;
        if (tso && (gso == tun_offload::VIRTIO_NET_HDR_GSO_TCPV4 || gso == tun_offload::VIRTIO_NET_HDR_GSO_TCPV6) && v.h.gso_size > 0 &&
            tun_offload::layout(p, v.size, l)) {
          for (std::size_t k = 0;; ++k) {
            const std::size_t z = tun_offload::segment(p, v.size, l, v.h.gso_size, k, next_slot());
            if (z == 0) break;
            take(z);
          }
        } else if (gso == tun_offload::VIRTIO_NET_HDR_GSO_NONE && tun_offload::complete_checksum(p, v.size, v.h)) {
          std::memcpy(slot, p, v.size);
          take(v.size);
        } else {
          ++encap_errors["TUN: offload the tunnel does not do"];
        }
      }
      flush();
    }
    if (fds[1].revents & POLLIN) {  // from the peer: decapsulate
      std::size_t n = 0;
      auto open = [&] {  // the n frames taken: one decap_burst, then to the TUN device
        esp_in += n;
        ep->decap_burst({rx_frames.data(), n}, {opened.data(), n});
        std::size_t good = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const auto& r = opened[i];
          if (!r) {
            // IKE and keepalives on port 4500 are the key manager's, not errors
            if (r.error() != errc::non_esp_marker && r.error() != errc::nat_keepalive) ++decap_errors[to_string(r.error())];
            if (verbose) std::fprintf(stderr, "decap: %s at layer %u\n", to_string(r.error()), r.detail);
            continue;
          }
          clamp_tcp_mss(rx_frames[i].data(), r.value().inner_version == 6 ? mss6 : mss4);
          inner_at[good] = rx_frames[i].begin();
          inner_size[good] = rx_frames[i].size();
          inner_frame[good++] = i;
        }
        for (std::size_t i = 0; i < good;) {
          std::size_t used = 1;
          // with offload: consecutive segments of one TCP flow as one GSO write
          if (vnet) {
            const std::size_t z = tun_offload::coalesce(inner_at.data() + i, inner_size.data() + i, good - i, stage.data(), stage.size(), used);
            if (z != 0) {
              if (write(tun, stage.data(), z) == static_cast<ssize_t>(z)) tun_out += used;
              i += used;
              continue;
            }
          }
          // alone: with IFF_VNET_HDR a zero header (no GSO, checksums complete) goes in front,
          // in the room the outer headers left
          frame& f = rx_frames[inner_frame[i]];
          std::uint8_t* w = f.begin() - vnet;
          std::memset(w, 0, vnet);
          if (write(tun, w, f.size() + vnet) == static_cast<ssize_t>(f.size() + vnet)) ++tun_out;
          ++i;
        }
        n = 0;
      };
      if (nat_t)  // recvmmsg wrote the lengths it used: room again for each
        for (std::size_t i = 0; i < batch; ++i) {
          rx_msgs[i].msg_hdr.msg_namelen = sizeof rx_from[i];
          rx_msgs[i].msg_hdr.msg_controllen = udp_offload::control_size;
        }
      const int got = recvmmsg(rx, rx_msgs.data(), batch, MSG_DONTWAIT, nullptr);
      msgs_in += static_cast<std::uint64_t>(std::max(got, 0));
      for (int i = 0; i < got; ++i) {
        const std::size_t len = rx_msgs[i].msg_len;
        std::uint8_t* p = static_cast<std::uint8_t*>(rx_iov[i].iov_base);
        if (!nat_t) {  // a raw socket: the whole packet, outer IPv4 header first
          if (len <= 20) continue;
          const std::size_t ihl = std::size_t{p[0] & 0x0fu} * 4;
          if (ihl < 20 || std::memcmp(p + 12, remote.data(), 4) != 0) continue;  // not from our peer
          rx_frames[n++] = frame({p, room + 64}, 0, len);
          continue;
        }
        // NAT-T: one datagram, or with GRO a run of them cut at gso_size, each given back
        // its outer headers in a slot of its own
        if (std::memcmp(&rx_from[i].sin_addr, remote.data(), 4) != 0) continue;  // not from our peer
        const auto k = udp_offload::read_cmsgs(rx_msgs[i].msg_hdr);
        udp_offload::for_each_datagram(p, len, k.gso_size, [&](const std::uint8_t* q, std::size_t z) {
          if (n == batch) open();
          std::uint8_t* d = seg_buf.data() + n * (room + 64);
          std::memcpy(d + udp_offload::outer, q, z);
          udp_offload::write_outer(d, z, remote, ntohs(rx_from[i].sin_port), local, local_port, k.tos, k.ttl);
          rx_frames[n++] = frame({d, room + 64}, 0, udp_offload::outer + z);
        });
      }
      open();
    }
  }
  std::printf("ipsec-tunnel: stopped after %llu reloads\n  from tun %llu, ESP sent %llu (in %llu messages), ESP received %llu (in %llu), to tun %llu\n",
              (unsigned long long)reloads, (unsigned long long)tun_in, (unsigned long long)esp_out, (unsigned long long)msgs_out,
              (unsigned long long)esp_in, (unsigned long long)msgs_in, (unsigned long long)tun_out);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("  CPU time: user %.2f s, system %.2f s\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
  if (st.outbound) std::printf("  outbound SA 0x%08x: next sequence number %llu\n", st.outbound->spi(), (unsigned long long)st.outbound->next_seq());
  st.inbound.for_each([](const esp_sa<backend>& sa) {
    std::printf("  inbound SA 0x%08x: highest accepted %llu\n", sa.spi(), (unsigned long long)sa.window().top());
  });
  for (const auto& [k, v] : encap_errors) std::printf("  encap error: %s: %llu\n", k.c_str(), (unsigned long long)v);
  for (const auto& [k, v] : decap_errors) std::printf("  decap error: %s: %llu\n", k.c_str(), (unsigned long long)v);
  std::fflush(stdout);
  ::close(tun);
  ::close(tx);
  if (rx != tx) ::close(rx);
  return 0;
}
