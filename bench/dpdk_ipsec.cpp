// bench/dpdk_ipsec.cpp — see dpdk_ipsec.hpp. Follows DPDK's own use of librte_ipsec
// (app/test/test_ipsec_perf.c, examples/ipsec-secgw): an rte_ipsec_sa over a cryptodev
// session on crypto_aesni_mb, IV at the standard offset behind the crypto op.
#include "dpdk_ipsec.hpp"

#include <rte_bus_vdev.h>
#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ipsec.h>
#include <rte_mbuf.h>

#include <netinet/in.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace dpdk_side {
namespace {

constexpr std::uint16_t iv_offset = sizeof(rte_crypto_op) + sizeof(rte_crypto_sym_op);
constexpr const char* pmd = "crypto_aesni_mb";

struct device {
  bool up = false;
  std::string why;
  std::uint8_t id = 0;
  rte_mempool *sessions = nullptr, *ops = nullptr, *mbufs = nullptr;
};
device dev;

std::string failed(const char* what) { return std::string(what) + ": " + rte_strerror(rte_errno); }

}  // namespace

bool start(std::string& why) {
  static bool tried = false;
  if (!tried) {
    tried = true;
    // no hugepages, no PCI scan, no files under /var/run: a benchmark, not a data plane
    const char* args[] = {"encap-bench", "--no-huge", "--no-pci", "--no-telemetry", "--no-shconf", "-m", "512",
                          "-l", "0", "--log-level", "4", "--vdev", pmd};
    std::vector<char*> argv;
    for (const char* a : args) argv.push_back(const_cast<char*>(a));
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
      dev.why = failed("rte_eal_init");
    } else if (const int id = rte_cryptodev_get_dev_id(pmd); id < 0) {
      dev.why = std::string("no ") + pmd + " device (librte-crypto-ipsec-mb23 missing?)";
    } else {
      dev.id = static_cast<std::uint8_t>(id);
      rte_cryptodev_config conf{};
      conf.socket_id = SOCKET_ID_ANY;
      conf.nb_queue_pairs = 1;
      dev.sessions = rte_cryptodev_sym_session_pool_create("encap_sessions", 64, rte_cryptodev_sym_get_private_session_size(dev.id),
                                                           0, 0, SOCKET_ID_ANY);
      rte_cryptodev_qp_conf qp{};
      qp.nb_descriptors = 2048;
      qp.mp_session = dev.sessions;
      dev.ops = rte_crypto_op_pool_create("encap_ops", RTE_CRYPTO_OP_TYPE_SYMMETRIC, 4096, 128, 64, SOCKET_ID_ANY);
      dev.mbufs = rte_pktmbuf_pool_create("encap_mbufs", 2048, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
      if (!dev.sessions || !dev.ops || !dev.mbufs) dev.why = failed("mempool");
      else if (rte_cryptodev_configure(dev.id, &conf) < 0) dev.why = failed("rte_cryptodev_configure");
      else if (rte_cryptodev_queue_pair_setup(dev.id, 0, &qp, SOCKET_ID_ANY) < 0) dev.why = failed("rte_cryptodev_queue_pair_setup");
      else if (rte_cryptodev_start(dev.id) < 0) dev.why = failed("rte_cryptodev_start");
      else dev.up = true;
    }
  }
  why = dev.why;
  return dev.up;
}

struct sa::impl {
  rte_crypto_sym_xform cipher{}, auth{}, aead{};
  std::array<std::uint8_t, 20> outer{};  // the tunnel header template (librte_ipsec sets its length, not its checksum)
  rte_ipsec_sa_prm prm{};
  rte_ipsec_sa* sa = nullptr;
  std::uint32_t sa_size = 0;
  void* ses = nullptr;
  rte_ipsec_session ss{};
  std::array<rte_mbuf*, block> mb{};
  std::array<rte_crypto_op*, block> cop{};
};

sa::sa(const sa_params& q) : p_(std::make_unique<impl>()) {
  impl& s = *p_;
  std::string why;
  if (!start(why)) throw std::runtime_error(why);
  rte_crypto_sym_xform* first = nullptr;
  if (q.gcm) {
    s.aead.type = RTE_CRYPTO_SYM_XFORM_AEAD;
    s.aead.aead.op = q.inbound ? RTE_CRYPTO_AEAD_OP_DECRYPT : RTE_CRYPTO_AEAD_OP_ENCRYPT;
    s.aead.aead.algo = RTE_CRYPTO_AEAD_AES_GCM;
    s.aead.aead.key.data = q.cipher_key.data();
    s.aead.aead.key.length = static_cast<std::uint16_t>(q.cipher_key.size() - 4);
    s.aead.aead.iv.offset = iv_offset;
    s.aead.aead.iv.length = 12;
    s.aead.aead.digest_length = 16;
    s.aead.aead.aad_length = 8;
    std::memcpy(&s.prm.ipsec_xform.salt, q.cipher_key.data() + q.cipher_key.size() - 4, 4);  // as the wire has it
    first = &s.aead;
  } else {
    s.cipher.type = RTE_CRYPTO_SYM_XFORM_CIPHER;
    s.cipher.cipher.op = q.inbound ? RTE_CRYPTO_CIPHER_OP_DECRYPT : RTE_CRYPTO_CIPHER_OP_ENCRYPT;
    s.cipher.cipher.algo = RTE_CRYPTO_CIPHER_AES_CBC;
    s.cipher.cipher.key.data = q.cipher_key.data();
    s.cipher.cipher.key.length = static_cast<std::uint16_t>(q.cipher_key.size());
    s.cipher.cipher.iv.offset = iv_offset;
    s.cipher.cipher.iv.length = 16;
    s.auth.type = RTE_CRYPTO_SYM_XFORM_AUTH;
    s.auth.auth.op = q.inbound ? RTE_CRYPTO_AUTH_OP_VERIFY : RTE_CRYPTO_AUTH_OP_GENERATE;
    s.auth.auth.algo = RTE_CRYPTO_AUTH_SHA1_HMAC;
    s.auth.auth.key.data = q.auth_key.data();
    s.auth.auth.key.length = static_cast<std::uint16_t>(q.auth_key.size());
    s.auth.auth.digest_length = 12;
    // encrypt-then-MAC out, verify-then-decrypt in
    if (q.inbound) {
      s.auth.next = &s.cipher;
      first = &s.auth;
    } else {
      s.cipher.next = &s.auth;
      first = &s.cipher;
    }
  }
  s.outer = {0x45, 0, 0, 0, 0, 0, 0, 0, 64, IPPROTO_ESP};
  std::memcpy(&s.outer[12], q.src.data(), 4);
  std::memcpy(&s.outer[16], q.dst.data(), 4);
  rte_security_ipsec_xform& x = s.prm.ipsec_xform;
  x.spi = q.spi;
  x.direction = q.inbound ? RTE_SECURITY_IPSEC_SA_DIR_INGRESS : RTE_SECURITY_IPSEC_SA_DIR_EGRESS;
  x.proto = RTE_SECURITY_IPSEC_SA_PROTO_ESP;
  x.mode = RTE_SECURITY_IPSEC_SA_MODE_TUNNEL;
  x.tunnel.type = RTE_SECURITY_IPSEC_TUNNEL_IPV4;
  std::memcpy(&x.tunnel.ipv4.src_ip, q.src.data(), 4);
  std::memcpy(&x.tunnel.ipv4.dst_ip, q.dst.data(), 4);
  x.replay_win_sz = q.replay_window;
  s.prm.crypto_xform = first;
  s.prm.tun.hdr_len = 20;
  s.prm.tun.hdr_l3_off = 0;
  s.prm.tun.next_proto = IPPROTO_IPIP;
  s.prm.tun.hdr = s.outer.data();
  const int size = rte_ipsec_sa_size(&s.prm);
  if (size <= 0) throw std::runtime_error(failed("rte_ipsec_sa_size"));
  s.sa_size = static_cast<std::uint32_t>((size + 63) / 64 * 64);
  s.sa = static_cast<rte_ipsec_sa*>(std::aligned_alloc(64, s.sa_size));
  s.ses = rte_cryptodev_sym_session_create(dev.id, first, dev.sessions);
  if (!s.ses) throw std::runtime_error(failed("rte_cryptodev_sym_session_create"));
  reset();
  s.ss.sa = s.sa;
  s.ss.type = q.cpu_crypto ? RTE_SECURITY_ACTION_TYPE_CPU_CRYPTO : RTE_SECURITY_ACTION_TYPE_NONE;
  s.ss.crypto.ses = static_cast<rte_cryptodev_sym_session*>(s.ses);
  s.ss.crypto.dev_id = dev.id;
  if (rte_ipsec_session_prepare(&s.ss) != 0) throw std::runtime_error("rte_ipsec_session_prepare refused the session");
  if (rte_pktmbuf_alloc_bulk(dev.mbufs, s.mb.data(), block) != 0) throw std::runtime_error(failed("rte_pktmbuf_alloc_bulk"));
}

sa::~sa() {
  impl& s = *p_;
  if (s.mb[0]) rte_pktmbuf_free_bulk(s.mb.data(), block);
  if (s.ses) rte_cryptodev_sym_session_free(dev.id, s.ses);
  if (s.sa) {
    rte_ipsec_sa_fini(s.sa);
    std::free(s.sa);
  }
}

void sa::reset() {
  std::memset(p_->sa, 0, p_->sa_size);
  if (rte_ipsec_sa_init(p_->sa, &p_->prm, p_->sa_size) < 0) throw std::runtime_error(failed("rte_ipsec_sa_init"));
}

void sa::load(std::size_t i, std::span<const std::uint8_t> packet) {
  rte_mbuf* m = p_->mb[i];
  rte_pktmbuf_reset(m);
  char* d = rte_pktmbuf_append(m, static_cast<std::uint16_t>(packet.size()));
  std::memcpy(d, packet.data(), packet.size());
  m->l2_len = 0;   // IP straight away (no Ethernet)
  m->l3_len = 20;  // the IPv4 header: the inner one going out, the outer one coming in
}

std::span<std::uint8_t> sa::packet(std::size_t i) {
  rte_mbuf* m = p_->mb[i];
  return {rte_pktmbuf_mtod(m, std::uint8_t*), rte_pktmbuf_data_len(m)};
}

std::size_t sa::run(std::size_t n, std::size_t burst) {
  impl& s = *p_;
  std::size_t ok = 0;
  for (std::size_t k = 0; k < n; k += burst) {
    const auto m = static_cast<std::uint16_t>(n - k < burst ? n - k : burst);
    rte_mbuf** mb = s.mb.data() + k;
    if (s.ss.type == RTE_SECURITY_ACTION_TYPE_CPU_CRYPTO) {
      const std::uint16_t c = rte_ipsec_pkt_cpu_prepare(&s.ss, mb, m);
      ok += rte_ipsec_pkt_process(&s.ss, mb, c);
      continue;
    }
    // lookaside: crypto ops through the device's queue pair, then librte_ipsec finishes
    if (rte_crypto_op_bulk_alloc(dev.ops, RTE_CRYPTO_OP_TYPE_SYMMETRIC, s.cop.data(), m) != m) return ok;
    const std::uint16_t c = rte_ipsec_pkt_crypto_prepare(&s.ss, mb, s.cop.data(), m);
    const std::uint16_t e = rte_cryptodev_enqueue_burst(dev.id, 0, s.cop.data(), c);
    std::array<rte_crypto_op*, block> done;
    std::uint16_t got = 0;
    while (got < e) got += rte_cryptodev_dequeue_burst(dev.id, 0, done.data() + got, static_cast<std::uint16_t>(e - got));
    // one queue pair returns the ops in order: op j is mbuf j's (prepare left the valid ones first)
    for (std::uint16_t j = 0; j < got; ++j)
      if (done[j]->status != RTE_CRYPTO_OP_STATUS_SUCCESS) mb[j]->ol_flags |= RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED;
    rte_mempool_put_bulk(dev.ops, reinterpret_cast<void**>(s.cop.data()), m);  // (the same ops, prepared or not)
    ok += rte_ipsec_pkt_process(&s.ss, mb, got);
  }
  return ok;
}

}  // namespace dpdk_side
