// encap/endpoint.hpp — a tunnel endpoint: a typed stack driven over real packets: encapsulation writes each
// layer in front of (and for ESP behind) the inner packet, innermost layer first;
// decapsulation validates and strips them outermost first and returns the inner packet
// as a sub-span of the same buffer.
//
//   constexpr auto s = ipv4{...} / esp<tunnel, aes256_cbc_hmac_sha1_96>{} / ipv4{...} / gre{};
//   encap::endpoint t(s, {.mtu = 1500}, &outbound_sa, &inbound_sa);
//   std::array<std::uint8_t, s.headroom + 1500 + s.tailroom> buf;
//   frame f(buf, s.headroom, inner_len);   // inner packet copied or received at buf[s.headroom]
//   auto r = t.encap(f);                   // f now holds the outer packet
#pragma once

#include <array>
#include <cstring>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>

#include "endpoint_common.hpp"
#include "esp_sa.hpp"
#include "frame.hpp"
#include "layers/esp.hpp"
#include "layers/gre.hpp"
#include "layers/ipv4.hpp"
#include "layers/ipv6.hpp"
#include "layers/udp.hpp"
#include "result.hpp"
#include "stack.hpp"
#include "wire/esp.hpp"
#include "wire/gre.hpp"
#include "wire/ip.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/udp.hpp"
#include "wire/walk.hpp"

namespace encap {
inline namespace v0 {

template <class L>
concept data_path_layer = L::kind == layer_kind::ipv4 || L::kind == layer_kind::ipv6 ||
                          L::kind == layer_kind::udp || L::kind == layer_kind::gre || L::kind == layer_kind::esp;

// A stack with a layer the data path does not drive lands here, with a sentence.
template <esp_backend Backend, class Stack>
class endpoint {
  static_assert(sizeof(Stack) == 0,
                "data_path_layer: an endpoint drives IPv4, IPv6, UDP, GRE and ESP layers; Ethernet, PPPoE, MPLS, VXLAN, "
                "GENEVE, L2TPv3, MACsec and WireGuard are sizing-only (use the calculators)");
};

template <esp_backend Backend, data_path_layer... Ls>
class endpoint<Backend, stack<Ls...>> {
 public:
  using stack_type = stack<Ls...>;
  static constexpr std::size_t size = sizeof...(Ls);
  static constexpr std::size_t headroom = stack_type::headroom;
  static constexpr std::size_t tailroom = stack_type::tailroom;
  static constexpr std::size_t esp_count = ((Ls::kind == layer_kind::esp) + ...);
  static_assert(esp_count <= 1, "one ESP layer per tunnel");
  static constexpr bool inner_ip_layer = stack_type::rules[size - 1].inner_header;
  static constexpr std::size_t esp_index = [] {
    for (std::size_t i = 0; i < size; ++i)
      if (stack_type::rules[i].kind == layer_kind::esp) return i;
    return size;
  }();
  static constexpr std::size_t burst_chunk = 32;  // packets whose crypto goes to the backend together

  endpoint(const stack_type& s, tunnel_options o, esp_sa<Backend>* outbound = nullptr, esp_sa<Backend>* inbound = nullptr)
      : stack_(s), opt_(o), out_(outbound), in_(inbound) {
    // the stack's sizes come from its ESP type: an SA with another suite would not fit them
    for (std::size_t i = 0; i < size; ++i)
      if (stack_type::rules[i].kind == layer_kind::esp)
        for (const esp_sa<Backend>* sa : {outbound, inbound})
          if (sa && esp_rule(sa->suite(), {stack_type::rules[i].extra_padding, stack_type::rules[i].pad_to}) != stack_type::rules[i])
            throw std::invalid_argument("endpoint: the SA's suite or padding differs from the stack's ESP layer");
    const auto m = max_inner_size(s, o.mtu);
    max_inner_ = m.value_or(0);
    check_outer_ = o.check == outer_check::addresses || (o.check == outer_check::automatic && esp_count == 0);
    for (std::size_t i = 0; i < size; ++i)
      if (stack_type::rules[i].kind == layer_kind::esp) esp_room_ = room_after(stack_type::rules, o.mtu, i).value_or(0);
    template_ = template_shape && outbound && !outbound->tfc_padding();
  }

  std::size_t mtu() const noexcept { return opt_.mtu; }
  // Whether encap writes from the header template (a stack of IPv4, UDP over IPv4, GRE
  // without checksum and one ESP layer, an outbound SA without TFC padding): else, and
  // for a packet after set_next_iv or at the last sequence number, by the layer walk.
  bool header_template() const noexcept { return template_; }
  std::size_t max_inner() const noexcept { return max_inner_; }  // the tunnel MTU
  const stack_type& layers() const noexcept { return stack_; }
  stack_type& layers() noexcept { return stack_; }

  // Encapsulates the IP packet in f. On success f holds the outer packet (also returned).
  // Too big: packet_too_big when DF is set or the inner packet is IPv6, needs_fragmentation
  // otherwise; detail carries the tunnel MTU either way. Every check that can fail (size,
  // room, sequence exhaustion) runs before anything is written; if the crypto backend
  // itself fails (crypto_failure), f, the SA's sequence number and this endpoint's IPv4 ID
  // and GRE sequence number are put back, so a retry encapsulates once.
  result<byte_span> encap(frame& f) noexcept {
    if constexpr (template_shape)
      if (template_ && out_->fast_ready()) return encap_template(f);
    return encap_walk(f);
  }

  // Validates and strips every layer, outermost first. On success f holds the inner IP
  // packet; on failure detail is the index of the layer that failed (size: the inner packet).
  // Each header that is what an encapsulator writes (IPv4 without options, UDP without
  // checksum over IPv4, GRE without options) is checked in a few wide compares; any other
  // goes to the layer's full parser, whose errors and details are the only ones reported.
  ENCAP_FLATTEN result<decap_info> decap(frame& f) noexcept {
    dec_ctx c{};
    if (const errc e = decap_from<0>(f, c); e != errc::ok) return result<decap_info>(e, c.layer);
    return decap_inner(f, c);
  }

  // Bursts: many packets of this endpoint in one call, one result each in `out`
  // (out.size() >= frames.size()); returns how many succeeded. The same results as one
  // call per packet, in order. With a multi-buffer backend (esp_burst_backend) whose SA
  // interleaves packets (esp_sa::interleaves_seal, interleaves), the layers inside ESP are
  // written for up to burst_chunk packets, their crypto goes to the backend in one call,
  // then the outer layers follow; otherwise packets go one by one (measured faster where
  // the backend would take them singly anyway).
  std::size_t encap_burst(std::span<frame> frames, std::span<result<byte_span>> out) noexcept {
    const std::size_t n = frames.size() < out.size() ? frames.size() : out.size();
    std::size_t ok = 0;
    if constexpr (esp_count == 0 || !esp_burst_backend<Backend>) {
      for (std::size_t i = 0; i < n; ++i) ok += (out[i] = encap(frames[i])).has_value();
    } else if (!out_ || !out_->interleaves_seal()) {
      for (std::size_t i = 0; i < n; ++i) ok += (out[i] = encap(frames[i])).has_value();
    } else {
      ok = encap_interleaved(frames.first(n), out);
    }
    return ok;
  }

  std::size_t decap_burst(std::span<frame> frames, std::span<result<decap_info>> out) noexcept {
    const std::size_t n = frames.size() < out.size() ? frames.size() : out.size();
    std::size_t ok = 0;
    if constexpr (esp_count == 0 || !esp_burst_backend<Backend>) {
      for (std::size_t i = 0; i < n; ++i) ok += (out[i] = decap(frames[i])).has_value();
    } else if (!in_ || !in_->interleaves()) {
      for (std::size_t i = 0; i < n; ++i) ok += (out[i] = decap(frames[i])).has_value();
    } else {
      std::array<dec_ctx, burst_chunk> ctx;
      std::array<typename esp_sa<Backend>::inbound, burst_chunk> pending;
      std::array<esp_packet_view, burst_chunk> views;
      std::array<errc, burst_chunk> opened;
      std::array<std::size_t, burst_chunk> at;
      for (std::size_t base = 0; base < n; base += burst_chunk) {
        std::size_t m = 0;
        for (std::size_t i = base; i < n && i < base + burst_chunk; ++i) {
          ctx[m] = dec_ctx{};
          ctx[m].deferred = &pending[m];
          if (const errc e = decap_layer<0>(frames[i], ctx[m]); e != errc::ok) {  // stops after ESP's checks
            out[i] = result<decap_info>(e, ctx[m].layer);
            continue;
          }
          views[m] = pending[m].view;
          at[m++] = i;
        }
        if (m) in_->open({views.data(), m}, {opened.data(), m});
        for (std::size_t k = 0; k < m; ++k) {
          const std::size_t i = at[k];
          errc e = opened[k];
          // what one call per packet would have said first: the window as the packets
          // before this one in the burst left it (a forged duplicate: esp_replayed, not esp_bad_icv)
          if (const errc w = in_->recheck(pending[k]); w != errc::ok) e = w;
          if (e == errc::ok) e = esp_resume<esp_index>(frames[i], ctx[k], pending[k]);
          out[i] = e == errc::ok ? decap_inner(frames[i], ctx[k]) : result<decap_info>(e, ctx[k].layer);
          ok += out[i].has_value();
        }
      }
    }
    return ok;
  }

 private:
  struct enc_ctx : encap_walk {
    esp_packet_view* deferred = nullptr;      // a burst: ESP stops after prepare and leaves its view here
    std::size_t esp_len = 0;                  // the header template: ESP's length (a burst's packet: 0 for the walk)
  };
  struct dec_ctx : decap_walk {
    typename esp_sa<Backend>::inbound* deferred = nullptr;  // a burst: ESP stops after its checks
  };

  // encap_burst with a backend that interleaves: the layers inside ESP for up to
  // burst_chunk packets (by the header template where it applies), one seal, the outer
  // layers. Flattened as encap is (64-byte CBC + HMAC-SHA1: 142-147 -> 131-133 ns a packet);
  // the one-by-one loop is not (flattened, 64-byte AES-GCM bursts took 2-4 ns more a packet).
  ENCAP_FLATTEN ENCAP_NOINLINE std::size_t encap_interleaved(std::span<frame> frames, std::span<result<byte_span>> out) noexcept {
    const std::size_t n = frames.size();
    std::size_t ok = 0;
    std::array<enc_ctx, burst_chunk> ctx;
    std::array<esp_packet_view, burst_chunk> views;
    std::array<errc, burst_chunk> sealed;
    std::array<std::size_t, burst_chunk> at, front, length;  // a failed packet's frame is put back
    for (std::size_t base = 0; base < n; base += burst_chunk) {
      std::size_t m = 0;
      for (std::size_t i = base; i < n && i < base + burst_chunk; ++i) {
        ctx[m] = enc_ctx{};
        front[m] = frames[i].headroom();
        length[m] = frames[i].size();
        if (burst_template(frames[i], ctx[m], views[m], out[i])) {
          if (out[i]) at[m++] = i;  // (refused by admit_inner: nothing was written)
          continue;
        }
        ctx[m].deferred = &views[m];
        out[i] = admit(frames[i], ctx[m]);
        if (out[i]) out[i] = encap_layer<size - 1>(frames[i], ctx[m]);  // stops after ESP's prepare
        if (out[i]) at[m++] = i;
        else frames[i].put_back(front[m], length[m]);
      }
      if (m) out_->seal({views.data(), m}, {sealed.data(), m});  // m > 0: the SA exists
      for (std::size_t k = 0; k < m; ++k) {
        const std::size_t i = at[k];
        errc e = sealed[k];
        if (e == errc::ok && ctx[k].esp_len) template_outside(frames[i], ctx[k]);
        else if constexpr (esp_index > 0)
          if (e == errc::ok) e = encap_layer<esp_index - 1>(frames[i], ctx[k]);
        if (e != errc::ok) frames[i].put_back(front[k], length[k]);  // (its sequence number stays used: a gap, never a reuse)
        out[i] = e == errc::ok ? result<byte_span>(frames[i].data()) : result<byte_span>(e);
        ok += e == errc::ok;
      }
    }
    return ok;
  }

  // A burst's packet by the header template, up to ESP's framing (its view in v), when the
  // template applies to it; false: the walk's.
  bool burst_template(frame& f, enc_ctx& c, esp_packet_view& v, result<byte_span>& r) noexcept {
    if constexpr (template_shape) {
      if (!template_ || !out_->fast_ready()) return false;
      constexpr layer_rule esp = stack_type::rules[esp_index];
      r = template_inside(f, c, [&](std::uint8_t* h, std::size_t p, std::uint8_t next_header) {
        v = out_->template frame_fixed<esp.header_size - esp_header_size, esp.trailer_size, esp.align>(h, p, next_header);
        return v.packet.size();
      });
      return true;
    } else {
      return false;
    }
  }

  // What encap refuses before touching anything. Too big: packet_too_big when DF is set or
  // the inner packet is IPv6, needs_fragmentation otherwise; detail carries the tunnel MTU.
  result<byte_span> admit(frame& f, enc_ctx& c) const noexcept {
    if (esp_count && !out_) return errc::esp_unknown_spi;  // no outbound SA
    if (esp_count && out_->exhausted()) return errc::sequence_exhausted;  // before any layer is written
    constexpr std::uint8_t version = !inner_ip_layer ? 0 : stack_type::rules[size - 1].kind == layer_kind::ipv4 ? 4 : 6;
    const auto inner = admit_inner(f, version, max_inner_, headroom, tailroom);
    if (!inner) return result<byte_span>(inner.error(), inner.detail);  // (detail: the tunnel MTU)
    c.inner = inner_for_outer(inner.value(), f);
    return f.data();
  }

  result<decap_info> decap_inner(frame& f, const dec_ctx& c) noexcept { return decap_inner_packet(f, c, size); }

  template <std::size_t I> using layer_t = std::remove_cvref_t<decltype(std::declval<stack_type&>().template get<I>())>;

  // The kind that follows layer I; past the last layer, the inner packet's IP version.
  template <std::size_t I>
  static constexpr layer_kind next_kind(std::uint8_t inner_version) noexcept {
    if constexpr (I + 1 < size) return stack_type::rules[I + 1].kind;
    else return inner_version == 6 ? layer_kind::ipv6 : layer_kind::ipv4;
  }


  // ---- encapsulation, innermost layer first ----------------------------------------------

  ENCAP_FLATTEN ENCAP_NOINLINE result<byte_span> encap_walk(frame& f) noexcept {
    enc_ctx c{};
    if (const auto r = admit(f, c); !r) return r;
    const std::size_t front = f.headroom(), length = f.size();
    const std::uint16_t ip_id = ip_id_;
    const std::uint32_t gre_seq = gre_seq_;
    if (const errc e = encap_layer<size - 1>(f, c); e != errc::ok) {
      f.put_back(front, length);
      ip_id_ = ip_id;
      gre_seq_ = gre_seq;
      return e;
    }
    return f.data();
  }

  template <std::size_t I>
  errc encap_layer(frame& f, enc_ctx& c) noexcept {
    using L = layer_t<I>;
    const L& l = stack_.template get<I>();
    const layer_kind next = next_kind<I>(c.inner.version);
    errc e = errc::ok;
    if constexpr (I == size - 1 && inner_ip_layer) {
      // the inner packet's own header: nothing to write
    } else if constexpr (L::kind == layer_kind::ipv4) {
      encap_ipv4(f, c, l, ip_proto_of(next), ++ip_id_, opt_.df);
    } else if constexpr (L::kind == layer_kind::ipv6) {
      encap_ipv6(f, c, l, ip_proto_of(next));
    } else if constexpr (L::kind == layer_kind::udp) {
      encap_udp(f, c, l);
    } else if constexpr (L::kind == layer_kind::gre) {
      constexpr gre_opt o = L::options;
      encap_gre(f, o, next == layer_kind::ipv6, l.key, has(o, gre_opt::seq) ? gre_seq_++ : 0);
    } else if constexpr (L::kind == layer_kind::esp) {
      if (!out_) return errc::esp_unknown_spi;
      if (c.deferred) {  // a burst: sealed with the others, then resumed at layer I - 1
        const auto r = out_->encap_prepare(f, ip_proto_of(next), esp_room_);
        if (r) *c.deferred = r.value();
        return r.error();
      }
      e = out_->encap(f, ip_proto_of(next), esp_room_).error();
    }
    if (e != errc::ok) return e;
    if constexpr (I > 0) return encap_layer<I - 1>(f, c);
    else return errc::ok;
  }

  // ---- encapsulation from a header template ------------------------------------------------
  // The common tunnels (IPv4, UDP over IPv4, GRE without checksum, one ESP layer) with every
  // header's offset known at compile time: the inner packet is checked once, each header is
  // written at its place from the stack's fields with its length from the packet's, and ESP's
  // framing and seal take the suite's sizes as constants. No frame arithmetic per layer, no
  // put-back state: the same bytes as encap_layer (test_runtime_endpoint compares them with
  // the run-time endpoint's walk), in about two thirds of the instructions.

  static constexpr bool template_shape = header_template_shape(stack_type::rules);
  // where layer I's header starts, from the start of the outer packet; header_at[size]: the inner packet
  static constexpr std::array<std::size_t, size + 1> header_at = [] {
    std::array<std::size_t, size + 1> a{};
    for (std::size_t i = 0; i < size; ++i) a[i + 1] = a[i] + stack_type::rules[i].header_size;
    return a;
  }();
  static_assert(header_at[size] <= headroom);

  ENCAP_FLATTEN result<byte_span> encap_template(frame& f) noexcept {
    enc_ctx c;
    const std::uint16_t ip_id = ip_id_;
    const std::uint32_t gre_seq = gre_seq_;
    constexpr layer_rule esp = stack_type::rules[esp_index];
    const auto r = template_inside(f, c, [&](std::uint8_t* h, std::size_t p, std::uint8_t next_header) {
      return out_->template encap_fixed<esp.header_size - esp_header_size, esp.trailer_size, esp.align>(h, p, next_header);
    });
    if (!r) return r;
    if (c.esp_len == 0) {
      ip_id_ = ip_id;
      gre_seq_ = gre_seq;
      return errc::crypto_failure;
    }
    template_outside(f, c);
    return f.data();
  }

  // The template's halves around ESP's crypto (a burst seals between them): admit, the
  // layers inside ESP and ESP itself by `esp` (the length it returns, 0: failed, in c.esp_len);
  // then the layers outside it, and the frame's bounds.
  template <class Esp>
  result<byte_span> template_inside(frame& f, enc_ctx& c, Esp&& esp) noexcept {
    constexpr std::uint8_t version = !inner_ip_layer ? 0 : stack_type::rules[size - 1].kind == layer_kind::ipv4 ? 4 : 6;
    const auto inner = admit_inner(f, version, max_inner_, headroom, tailroom);
    if (!inner) return result<byte_span>(inner.error(), inner.detail);
    c.inner = inner_for_outer(inner.value(), f);
    c.inner.df = outer_df(opt_.df, c.inner.df);  // the outer headers' DF from here on
    std::uint8_t* const outer = f.begin() - header_at[size];
    const std::size_t n = f.size();
    if constexpr (esp_index + 1 < size) write_template<size - 1, esp_index + 1>(outer, header_at[size] + n, c.inner);  // innermost first, as encap_layer numbers IDs
    c.esp_len = esp(outer + header_at[esp_index], header_at[size] - header_at[esp_index + 1] + n, ip_proto_of(next_kind<esp_index>(c.inner.version)));
    return f.data();
  }
  void template_outside(frame& f, const enc_ctx& c) noexcept {
    std::uint8_t* const outer = f.begin() - header_at[size];
    if constexpr (esp_index > 0) write_template<esp_index - 1, 0>(outer, header_at[esp_index] + c.esp_len, c.inner);
    (void)f.push(header_at[size]);
    (void)f.put(header_at[esp_index] + c.esp_len - f.size());
  }

  // Layers I down to Last (I >= Last); `end`: where the packet ends, from the outer start;
  // `in.df`: the outer DF bit, the policy applied.
  template <std::size_t I, std::size_t Last>
  void write_template(std::uint8_t* outer, std::size_t end, const inner_ip_info& in) noexcept {
    using L = layer_t<I>;
    const L& l = stack_.template get<I>();
    std::uint8_t* h = outer + header_at[I];
    const std::size_t len = end - header_at[I];
    const layer_kind next = next_kind<I>(in.version);
    if constexpr (I == size - 1 && inner_ip_layer) {
      // the inner packet's own header
    } else if constexpr (L::kind == layer_kind::ipv4) {
      write_ipv4(h, len, {l.src, l.dst, in.tos, l.ttl, ip_proto_of(next), ++ip_id_, in.df});
    } else if constexpr (L::kind == layer_kind::udp) {
      write_udp(h, l.src_port, l.dst_port, len);
    } else if constexpr (L::kind == layer_kind::gre) {
      constexpr gre_opt o = L::options;
      write_gre(h, len - gre_header_size(o), o, next == layer_kind::ipv6 ? ether_type::ipv6 : ether_type::ipv4, l.key,
                has(o, gre_opt::seq) ? gre_seq_++ : 0);
    }
    if constexpr (I > Last) write_template<I - 1, Last>(outer, end, in);
  }

  // ---- decapsulation, outermost layer first ----------------------------------------------

  // What may follow layer I: the next layer, or past the last one an IP packet (of the
  // version the stack's last layer names, or of either).
  template <std::size_t I>
  static constexpr bool next_is_inner = I + 1 == size || (I + 2 == size && inner_ip_layer);
  template <std::size_t I>
  static constexpr decap_next next_of = [] {
    if constexpr (!next_is_inner<I>) return decap_next{ip_proto_of(stack_type::rules[I + 1].kind), 0};
    else if constexpr (inner_ip_layer)
      return decap_next{0, stack_type::rules[size - 1].kind == layer_kind::ipv4 ? decap_next::inner_v4 : decap_next::inner_v6};
    else return decap_next{0, decap_next::inner_v4 | decap_next::inner_v6};
  }();

  // Layer I by its codec, then the layers after it: by their codecs (Fast false: bursts,
  // the reference) or each first by decap_fits (decap_from).
  template <std::size_t I, bool Fast = false>
  errc decap_layer(frame& f, dec_ctx& c) noexcept {
    using L = layer_t<I>;
    c.layer = I;
    constexpr decap_next next = next_of<I>;
    const L* peer = check_outer_ ? &stack_.template get<I>() : nullptr;
    errc e = errc::ok;
    if constexpr (I == size - 1 && inner_ip_layer) {
      return errc::ok;  // the inner packet itself: checked by decap()
    } else if constexpr (L::kind == layer_kind::ipv4) {
      e = decap_ipv4(f, c, next, peer);
    } else if constexpr (L::kind == layer_kind::ipv6) {
      e = decap_ipv6(f, c, next, peer);
    } else if constexpr (L::kind == layer_kind::udp) {
      e = decap_udp(f, c, peer, next.proto == ip_proto::esp && !next.inner);
    } else if constexpr (L::kind == layer_kind::gre) {
      std::optional<std::uint32_t> key;
      if constexpr (has(L::options, gre_opt::key)) key = stack_.template get<I>().key;
      e = decap_gre(f, c, next, key);
    } else if constexpr (L::kind == layer_kind::esp) {
      if (!in_) return errc::esp_unknown_spi;
      if (!c.deferred) {  // one packet: the suite's sizes from the stack, as constants
        constexpr layer_rule esp = stack_type::rules[I];
        const auto r = in_->template decap_fixed<esp.header_size - esp_header_size, esp.trailer_size, esp.align>(f);
        if (!r) return r.error();
        if ((e = decap_esp_next(c, next_of<I>, r.value(), esp.trailer_size != 0 || in_->authenticated())) != errc::ok) return e;
        return decap_next_layer<I, Fast>(f, c);
      }
      const auto r = in_->decap_check(f);
      if (!r) return r.error();
      *c.deferred = r.value();  // a burst: opened with the others, then resumed at esp_resume<I>
      return errc::ok;
    }
    if (e != errc::ok) return e;
    return decap_next_layer<I, Fast>(f, c);
  }

  template <std::size_t I, bool Fast>
  errc decap_next_layer(frame& f, dec_ctx& c) noexcept {
    if constexpr (I + 1 == size) return errc::ok;
    else if constexpr (Fast) return decap_from<I + 1>(f, c);
    else return decap_layer<I + 1>(f, c);
  }

  // Layers I onwards: each first by decap_fits, else (and ESP always) by its codec.
  template <std::size_t I>
  errc decap_from(frame& f, dec_ctx& c) noexcept {
    c.layer = I;
    if constexpr (layer_t<I>::kind != layer_kind::esp && !(I == size - 1 && inner_ip_layer))
      if (decap_fits<I>(f, c)) return decap_next_layer<I, true>(f, c);
    return decap_layer<I, true>(f, c);
  }

  // Whether layer I is the header an encapsulator writes, checked in a few wide compares:
  // IPv4 of 20 bytes, not a fragment, its checksum right; UDP over IPv4 with checksum zero;
  // GRE without checksum or routing. If so, f and c are left as decap_layer<I> leaves them
  // (and the answer is the same); if not, nothing is changed and the codec decides.
  template <std::size_t I>
  bool decap_fits(frame& f, dec_ctx& c) noexcept {
    using L = layer_t<I>;
    constexpr decap_next next = next_of<I>;
    const std::uint8_t* p = f.begin();
    const std::size_t n = f.size();
    if constexpr (L::kind == layer_kind::ipv4) {
      if (n < 20 || p[0] != 0x45) return false;  // options: the codec's
      const auto h = parse_ipv4({p, n});
      if (!h || c.accept_proto(next, h.value().protocol) != errc::ok) return false;
      if (check_outer_ && !ipv4_from_peer(p, stack_.template get<I>())) return false;
      take_ipv4(f, c, h.value());
      return true;
    } else if constexpr (L::kind == layer_kind::udp) {
      const auto h = parse_udp({p, n});
      if (!h || h.value().checksum != 0 || c.ipv6) return false;  // a checksum to verify: the codec's
      const std::size_t length = h.value().length;
      if (check_outer_) {
        const L& peer = stack_.template get<I>();
        if (h.value().src_port != peer.dst_port || h.value().dst_port != peer.src_port) return false;
      }
      // ESP follows: a NAT-keepalive or IKE's non-ESP marker is the codec's to report
      if (next.proto == ip_proto::esp && !next.inner && classify_nat_t({p + 8, length - 8}) != errc::ok) return false;
      if (!c.outer_source_port) c.outer_source_port = h.value().src_port;
      (void)f.truncate(length);
      (void)f.pull(8);
      return true;
    } else if constexpr (L::kind == layer_kind::gre) {
      constexpr gre_opt o = L::options;
      if (has(o, gre_opt::csum) || n < gre_header_size(o)) return false;
      constexpr std::uint16_t flags = (has(o, gre_opt::key) ? gre_flag_k : 0) | (has(o, gre_opt::seq) ? gre_flag_s : 0);
      const std::uint32_t w = load_be32(p);  // flags and version, protocol type: one load
      const std::uint16_t pt = static_cast<std::uint16_t>(w);
      const bool pt_ok = next.inner ? c.accept_inner(next, pt == ether_type::ipv4, pt == ether_type::ipv6) == errc::ok
                                    : pt == (next.proto == ip_proto::ipv6 ? ether_type::ipv6 : ether_type::ipv4);
      if ((w >> 16) != flags || !pt_ok) return false;
      std::size_t at = 4;
      if constexpr (has(o, gre_opt::key)) {
        if (load_be32(p + at) != stack_.template get<I>().key) return false;
        at += 4;
      }
      c.gre_seq = has(o, gre_opt::seq) ? std::optional<std::uint32_t>(load_be32(p + at)) : std::nullopt;
      (void)f.pull(gre_header_size(o));
      return true;
    } else {
      return false;
    }
  }

  // ESP layer I after its ICV passed: padding, window, next header; then the layers inside.
  template <std::size_t I>
  errc esp_resume(frame& f, dec_ctx& c, const typename esp_sa<Backend>::inbound& in) noexcept {
    c.layer = I;
    const auto r = in_->decap_finish(f, in);
    if (!r) return r.error();
    if (const errc e = decap_esp_next(c, next_of<I>, r.value(), in_->authenticated()); e != errc::ok) return e;
    return decap_next_layer<I, false>(f, c);
  }

  stack_type stack_;
  tunnel_options opt_;
  esp_sa<Backend>* out_;
  esp_sa<Backend>* in_;
  std::size_t max_inner_ = 0;
  std::size_t esp_room_ = unlimited;
  bool check_outer_ = false;
  bool template_ = false;  // encap_template: a template_shape stack and an outbound SA without TFC padding
  std::uint16_t ip_id_ = 0;
  std::uint32_t gre_seq_ = 0;
};

template <esp_backend Backend, class... Ls>
endpoint(const stack<Ls...>&, tunnel_options, esp_sa<Backend>*, esp_sa<Backend>*) -> endpoint<Backend, stack<Ls...>>;

}  // namespace v0
}  // namespace encap
