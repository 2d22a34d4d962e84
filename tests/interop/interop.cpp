// interop — encap's side of the scapy interop test (scapy_interop.py drives it).
//
//   interop encap MANIFEST OUT.pcap [BACKEND]   encapsulate each case's inner packet, write a pcap
//   interop decap MANIFEST IN.pcap [BACKEND]    decapsulate scapy's packets, compare with the inner packet
// BACKEND: botan (default) or ipsec_mb.
//
// MANIFEST: one case a line, space-separated:
//   spi suite mode(tunnel|transport) esn(0|1) natt(0|1) seq(64-bit) enc_key_hex auth_key_hex|- inner_hex
#include <encap/encap.hpp>
#include <encap/endpoint.hpp>
#include <encap/pcap.hpp>

#include "../support/backends.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace encap;

namespace {

struct case_line {
  std::uint32_t spi = 0;
  std::string suite, mode;
  bool esn = false, natt = false;
  std::uint64_t seq = 0;
  std::vector<std::uint8_t> enc_key, auth_key, inner;
};

std::vector<std::uint8_t> unhex(const std::string& s) {
  std::vector<std::uint8_t> out;
  if (s == "-") return out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoul(s.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<case_line> read_manifest(const char* path) {
  std::vector<case_line> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream ls(line);
    case_line c;
    std::string ek, ak, inner;
    int esn = 0, natt = 0;
    ls >> c.spi >> c.suite >> c.mode >> esn >> natt >> c.seq >> ek >> ak >> inner;
    c.esn = esn;
    c.natt = natt;
    c.enc_key = unhex(ek);
    c.auth_key = unhex(ak);
    c.inner = unhex(inner);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::vector<std::uint8_t>> read_pcap(const char* path) {
  std::vector<std::vector<std::uint8_t>> out;
  std::ifstream in(path, std::ios::binary);
  char hdr[24];
  if (!in.read(hdr, 24)) return out;
  std::uint32_t linktype;
  std::memcpy(&linktype, hdr + 20, 4);
  const std::size_t skip = linktype == 1 ? 14 : 0;  // Ethernet: drop the MAC header
  char rec[16];
  while (in.read(rec, 16)) {
    std::uint32_t len;
    std::memcpy(&len, rec + 8, 4);
    std::vector<std::uint8_t> p(len);
    in.read(reinterpret_cast<char*>(p.data()), len);
    p.erase(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(skip));
    out.push_back(std::move(p));
  }
  return out;
}

// Runs `fn` with an endpoint for this case's stack: IPv4 / [UDP 4500] / ESP / (IPv4 inner | GRE).
template <class Suite, class B, class Fn>
void with_endpoint(const case_line& c, esp_sa<B>& sa, Fn&& fn) {
  const ipv4 outer{{100, 1, 1, 1}, {100, 3, 3, 3}};
  const udp natt{4500, 4500};
  const tunnel_options o{.mtu = 9000};
  if (c.mode == "tunnel") {
    if (c.natt) { endpoint e(outer / natt / esp<tunnel, Suite>{} / ipv4{}, o, &sa, &sa); fn(e); }
    else { endpoint e(outer / esp<tunnel, Suite>{} / ipv4{}, o, &sa, &sa); fn(e); }
  } else {
    if (c.natt) { endpoint e(outer / natt / esp<transport, Suite>{} / gre{}, o, &sa, &sa); fn(e); }
    else { endpoint e(outer / esp<transport, Suite>{} / gre{}, o, &sa, &sa); fn(e); }
  }
}

template <class... Suites, class B, class Fn>
bool dispatch(const case_line& c, esp_sa<B>& sa, Fn&& fn) {
  return ((to_string(Suites::value) == c.suite ? (with_endpoint<Suites>(c, sa, fn), true) : false) || ...);
}

template <class B, class Fn>
bool run_case(const case_line& c, esp_sa<B>& sa, Fn&& fn) {
  return dispatch<aes128_gcm_16, aes256_gcm_16, suite<cipher_id::aes192_gcm_16>, suite<cipher_id::aes256_gcm_8>, aes128_cbc_hmac_sha1_96,
                  aes256_cbc_hmac_sha256_128, aes128_ctr_hmac_sha1_96, suite<cipher_id::aes256_ctr, integ_id::hmac_sha512_256>,
                  aes128_ccm_16, suite<cipher_id::aes256_ccm_16>, chacha20_poly1305, null_hmac_sha256_128,
                  suite<cipher_id::aes128_cbc, integ_id::aes_cmac_96>, suite<cipher_id::aes192_cbc, integ_id::hmac_sha384_192>>(
      c, sa, fn);
}

esp_sa_config config(const case_line& c) {
  const auto parsed = parse_spec("ipv4/esp(" + c.suite + ")");
  const esp_suite s = esp_suite::from_code(parsed->rules[1].param);
  return {.spi = c.spi, .suite = s, .keys = {c.enc_key, c.auth_key}, .esn = c.esn};
}

template <class Backend>
int run(char** argv) {
  using sa_t = esp_sa<Backend>;
  const std::string mode = argv[1];
  const auto cases = read_manifest(argv[2]);
  int failures = 0;
  if (mode == "encap") {
    pcap_writer out(argv[3]);
    for (const auto& c : cases) {
      sa_t sa(config(c));
      if (sa.set_next_seq(c.seq) != errc::ok) { ++failures; continue; }
      std::vector<std::uint8_t> buf(256 + c.inner.size() + 256);
      std::memcpy(buf.data() + 256, c.inner.data(), c.inner.size());
      frame f(buf, 256, c.inner.size());
      bool done = false;
      const bool known = run_case(c, sa, [&](auto& ep) {
        const auto r = ep.encap(f);
        done = r.has_value();
        if (!r) std::fprintf(stderr, "spi %u: encap: %s\n", c.spi, to_string(r.err));
      });
      if (!known || !done) { ++failures; std::fprintf(stderr, "spi %u (%s): not encapsulated\n", c.spi, c.suite.c_str()); }
      out.write(f.data());
    }
  } else {
    const auto packets = read_pcap(argv[3]);
    if (packets.size() != cases.size()) {
      std::fprintf(stderr, "%zu packets for %zu cases\n", packets.size(), cases.size());
      return 1;
    }
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const auto& c = cases[i];
      sa_t sa(config(c));
      if (c.seq > 64 && sa.restore_inbound(c.seq - 32) != errc::ok) { ++failures; continue; }  // the receiver has seen traffic up to just below
      std::vector<std::uint8_t> buf(packets[i]);
      frame f(buf, 0, buf.size());
      bool ok = false;
      run_case(c, sa, [&](auto& ep) {
        const auto r = ep.decap(f);
        if (!r) { std::fprintf(stderr, "spi %u (%s %s esn=%d natt=%d): decap: %s at layer %u\n", c.spi, c.suite.c_str(),
                               c.mode.c_str(), c.esn, c.natt, to_string(r.err), r.detail); return; }
        const auto d = f.data();
        ok = d.size() == c.inner.size() && std::equal(d.begin(), d.end(), c.inner.begin());
        if (!ok) std::fprintf(stderr, "spi %u: inner packet differs\n", c.spi);
      });
      if (!ok) ++failures;
    }
  }
  std::printf("%s: %zu cases, %d failures\n", std::string(Backend::name).c_str(), cases.size(), failures);
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: interop encap|decap MANIFEST PCAP [botan|ipsec_mb]\n");
    return 2;
  }
  const std::string backend = argc == 5 ? argv[4] : "botan";
  int status = 2;
  if (test::with_backend(backend, [&]<class B>() { status = run<B>(argv); })) return status;
  std::fprintf(stderr, "interop: backend '%s' not built\n", backend.c_str());
  return 2;
}
