// encap/runtime_endpoint.hpp — a tunnel endpoint whose stack is known only at run time:
// built from a stack_spec (the tunnel-mtu grammar, with addresses, ports and GRE key as
// values), an outbound SA and a table of inbound SAs whose suites come from
// configuration or IKE. It folds over the same per-layer codecs (wire/) as the typed
// endpoint, so for the same stack, SA and packet it writes the same bytes and reports
// the same errors (code and layer); tests/test_runtime_endpoint.cpp checks that.
//
//   auto spec = parse_spec("ipv4(src=192.0.2.1,dst=192.0.2.2)/udp(4500)/esp(aes-256-gcm-16)/ipv4").value();
//   sa_table<botan_backend> in;  in.add(inbound_config);
//   esp_sa<botan_backend> out(outbound_config);
//   runtime_endpoint<botan_backend> ep(spec, {.mtu = 1500}, &out, &in);
//   frame f(buf, ep.headroom(), len);  ep.encap(f);  ep.decap(g);
//
// Rekeying (RFC 7296 §2.8): add the new inbound SA to the table, switch the outbound SA
// with set_outbound() (one pointer: no packet lost or sent twice), erase the old inbound
// SA when IKE deletes it. The data path never allocates or throws.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "endpoint_common.hpp"
#include "esp_sa.hpp"
#include "frame.hpp"
#include "sa_table.hpp"
#include "sizing.hpp"
#include "spec.hpp"
#include "wire/esp.hpp"
#include "wire/gre.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/udp.hpp"
#include "wire/walk.hpp"

namespace encap {
inline namespace v0 {

template <esp_backend Backend>
class runtime_endpoint {
 public:
  static constexpr std::size_t burst_chunk = 32;  // packets whose crypto goes to the backend together

  // Throws std::invalid_argument for a stack the data path cannot drive (a sizing-only
  // layer, two ESP layers) or an outbound SA that does not fit the stack's ESP layer.
  runtime_endpoint(const stack_spec& s, tunnel_options o, esp_sa<Backend>* outbound = nullptr, sa_table<Backend>* inbound = nullptr)
      : opt_(o), in_(inbound) {
    const std::size_t n = s.rules.size();
    if (n == 0 || n > max_layers || s.values.size() != n) throw std::invalid_argument("runtime_endpoint: an empty or malformed stack_spec");
    const rule_span rules{s.rules.data(), n};
    size_ = n;
    inner_ip_layer_ = rules[n - 1].inner_header;
    esp_index_ = n;
    written_ = inner_ip_layer_ ? n - 1 : n;
    for (std::size_t i = 0; i < n; ++i) {
      const layer_kind k = rules[i].kind;
      if (!layer_info_of(k).data_path)
        throw std::invalid_argument(std::string("data_path_layer: an endpoint drives IPv4, IPv6, UDP, GRE and ESP layers; '") +
                                    std::string(to_string(k)) + "' is sizing-only (use the calculators)");
      if (k == layer_kind::ipv4 && rules[i].param != 0)
        throw std::invalid_argument("data_path_layer: IPv4 options are sizing-only; an endpoint writes 20-byte IPv4 headers");
      if (k == layer_kind::esp) {
        if (esp_index_ != n) throw std::invalid_argument("one ESP layer per tunnel");
        esp_index_ = i;
      }
      step& st = steps_[i];
      st.kind = k;
      st.values = s.values[i];
      st.gre = static_cast<gre_opt>(rules[i].param);
      // encapsulation: the protocol of what follows (past the last layer: the inner packet's)
      st.next_is_packet = i + 1 == n;
      st.proto = i + 1 < n ? ip_proto_of(rules[i + 1].kind) : 0;
      // decapsulation: what may follow
      const bool inner_next = i + 1 == n || (i + 2 == n && inner_ip_layer_);
      if (!inner_next) st.next = {ip_proto_of(rules[i + 1].kind), 0};
      else if (inner_ip_layer_) st.next = {0, rules[n - 1].kind == layer_kind::ipv4 ? decap_next::inner_v4 : decap_next::inner_v6};
      else st.next = {0, decap_next::inner_v4 | decap_next::inner_v6};
    }
    inner_version_ = !inner_ip_layer_ ? 0 : rules[n - 1].kind == layer_kind::ipv4 ? 4 : 6;
    headroom_ = required_headroom(rules);
    tailroom_ = required_tailroom(rules);
    max_inner_ = max_inner_size(rules, o.mtu).value_or(0);
    check_outer_ = o.check == outer_check::addresses || (o.check == outer_check::automatic && esp_index_ == n);
    if (esp_index_ != n) esp_room_ = room_after(rules, o.mtu, esp_index_).value_or(0);
    if (esp_index_ != n) esp_rule_ = rules[esp_index_];
    for (std::size_t i = 0; i < written_; ++i) at_[i + 1] = at_[i] + rules[i].header_size;
    template_ = header_template_shape(rules);
    find_shape(unrolled_shapes{});
    if (!encap_one_) template_ = false;  // (a shape not unrolled: the walk)
    if (outbound && set_outbound(outbound) != errc::ok)
      throw std::invalid_argument("runtime_endpoint: the SA's suite or padding differs from the stack's ESP layer");
  }

  std::size_t mtu() const noexcept { return opt_.mtu; }
  std::size_t max_inner() const noexcept { return max_inner_; }  // the tunnel MTU
  std::size_t headroom() const noexcept { return headroom_; }
  std::size_t tailroom() const noexcept { return tailroom_; }
  std::size_t size() const noexcept { return size_; }
  // Whether decapsulation runs one of the shapes unrolled at compile time (the common
  // ones: IP or NAT-T ESP, GRE over ESP, plain GRE) rather than the per-layer loop.
  bool unrolled() const noexcept { return decap_one_ != nullptr; }
  // Whether encap writes from a header template, as the typed endpoint's (a shape of IPv4,
  // UDP over IPv4, GRE without checksum and one ESP layer); a packet after set_next_iv, at
  // the last sequence number or through an SA with TFC padding takes the layer walk.
  bool header_template() const noexcept { return template_; }
  // A layer's values (addresses, ports, GRE key), e.g. to follow a NAT-mapped peer port.
  layer_values& values(std::size_t i) noexcept { return steps_[i].values; }
  const layer_values& values(std::size_t i) const noexcept { return steps_[i].values; }

  // The outbound SA, switched in one store (a rekey). invalid_suite if its suite or
  // padding does not fit the stack's ESP layer (the tunnel MTU was computed from it);
  // nothing changes then. nullptr stops ESP output (esp_unknown_spi).
  [[nodiscard]] errc set_outbound(esp_sa<Backend>* sa) noexcept {
    if (sa && esp_index_ < size_) {
      if (esp_rule(sa->suite(), {esp_rule_.extra_padding, esp_rule_.pad_to}) != esp_rule_) return errc::invalid_suite;
    }
    out_ = sa;
    return errc::ok;
  }
  esp_sa<Backend>* outbound() const noexcept { return out_; }
  void set_inbound(sa_table<Backend>* t) noexcept { in_ = t; }
  sa_table<Backend>* inbound() const noexcept { return in_; }

  // As endpoint::encap: on success f holds the outer packet; every check that can fail
  // runs before anything is written; a crypto failure puts f and the counters back.
  // A stack of an unrolled shape runs one function for the whole packet (encap_one).
  result<byte_span> encap(frame& f) noexcept {
    if (encap_one_) return (this->*encap_one_)(f);
    return encap_packet(f, [this](frame& g, encap_walk& c) { return encap_layers(g, c, written_, nullptr); });
  }

  // As endpoint::decap; the ESP layer's SA is found in the table by SPI (and by the
  // sending peer, for SAs the table binds to one).
  result<decap_info> decap(frame& f) noexcept {
    if (decap_one_) return (this->*decap_one_)(f);
    return decap_packet(f, [this](frame& g, decap_walk& c, pending& p) { return decap_layers(g, c, 0, nullptr, p); });
  }

  // Bursts, as endpoint's: the same results as one call per packet, in order.
  std::size_t encap_burst(std::span<frame> frames, std::span<result<byte_span>> out) noexcept {
    const std::size_t n = frames.size() < out.size() ? frames.size() : out.size();
    std::size_t ok = 0;
    if (esp_index_ == size_ || !esp_burst_backend<Backend> || !out_ || !out_->interleaves_seal()) {
      for (std::size_t i = 0; i < n; ++i) ok += (out[i] = encap(frames[i])).has_value();
      return ok;
    }
    std::array<encap_walk, burst_chunk> ctx;
    std::array<esp_packet_view, burst_chunk> views;
    std::array<errc, burst_chunk> sealed;
    std::array<std::size_t, burst_chunk> at;
    std::array<frame, burst_chunk> before;
    for (std::size_t base = 0; base < n; base += burst_chunk) {
      std::size_t m = 0;
      for (std::size_t i = base; i < n && i < base + burst_chunk; ++i) {
        ctx[m] = encap_walk{};
        before[m] = frames[i];
        out[i] = admit(frames[i], ctx[m]);
        if (out[i]) out[i] = encap_layers(frames[i], ctx[m], written_, &views[m]);  // stops after ESP's prepare
        if (out[i]) at[m++] = i;
        else frames[i] = before[m];
      }
      if (m) out_->seal({views.data(), m}, {sealed.data(), m});
      for (std::size_t k = 0; k < m; ++k) {
        const std::size_t i = at[k];
        errc e = sealed[k];
        if (e == errc::ok) e = encap_layers(frames[i], ctx[k], esp_index_, nullptr);
        if (e != errc::ok) frames[i] = before[k];  // (its sequence number stays used: a gap, never a reuse)
        out[i] = e == errc::ok ? result<byte_span>(frames[i].data()) : result<byte_span>(e);
        ok += e == errc::ok;
      }
    }
    return ok;
  }

  std::size_t decap_burst(std::span<frame> frames, std::span<result<decap_info>> out) noexcept {
    const std::size_t n = frames.size() < out.size() ? frames.size() : out.size();
    std::size_t ok = 0;
    if (esp_index_ == size_ || !esp_burst_backend<Backend>) {
      for (std::size_t i = 0; i < n; ++i) ok += (out[i] = decap(frames[i])).has_value();
      return ok;
    }
    std::array<decap_walk, burst_chunk> ctx;
    std::array<pending, burst_chunk> held;
    std::array<esp_packet_view, burst_chunk> views;
    std::array<errc, burst_chunk> opened;
    std::array<std::size_t, burst_chunk> at;
    for (std::size_t base = 0; base < n; base += burst_chunk) {
      std::size_t m = 0;
      for (std::size_t i = base; i < n && i < base + burst_chunk; ++i) {
        ctx[m] = decap_walk{};
        if (const errc e = decap_layers(frames[i], ctx[m], 0, &held[m], held[m]); e != errc::ok) {  // stops after ESP's checks
          out[i] = result<decap_info>(e, ctx[m].layer);
          continue;
        }
        views[m] = held[m].in.view;
        at[m++] = i;
      }
      // one backend call per run of packets of the same SA
      for (std::size_t k = 0; k < m;) {
        std::size_t e = k + 1;
        while (e < m && held[e].sa == held[k].sa) ++e;
        held[k].sa->open({views.data() + k, e - k}, {opened.data() + k, e - k});
        k = e;
      }
      for (std::size_t k = 0; k < m; ++k) {
        const std::size_t i = at[k];
        errc e = opened[k];
        // the window as the packets before this one left it (a forged duplicate: esp_replayed)
        if (const errc w = held[k].sa->recheck(held[k].in); w != errc::ok) e = w;
        if (e == errc::ok) e = esp_resume(frames[i], ctx[k], held[k]);
        out[i] = e == errc::ok ? decap_inner_packet(frames[i], ctx[k], size_) : result<decap_info>(e, ctx[k].layer);
        ok += out[i].has_value();
      }
    }
    return ok;
  }

 private:
  struct step {
    layer_kind kind{};
    bool next_is_packet = false;   // encap: the inner packet follows (its version names the protocol)
    std::uint8_t proto = 0;        // encap: the next layer's protocol number
    gre_opt gre = gre_opt::none;
    decap_next next{};             // decap: what may follow
    layer_values values{};
  };
  struct pending {
    esp_sa<Backend>* sa = nullptr;
    typename esp_sa<Backend>::inbound in{};
  };


  // One packet around its layers (`layers(f, c)`): admission first, and after a crypto
  // failure the frame and the counters put back.
  template <class Layers>
  result<byte_span> encap_packet(frame& f, Layers layers) noexcept {
    encap_walk c{};
    if (const auto r = admit(f, c); !r) return r;
    const std::size_t front = f.headroom(), length = f.size();
    const std::uint16_t ip_id = ip_id_;
    const std::uint32_t gre_seq = gre_seq_;
    if (const errc e = layers(f, c); e != errc::ok) {
      f.put_back(front, length);
      ip_id_ = ip_id;
      gre_seq_ = gre_seq;
      return e;
    }
    return f.data();
  }
  template <class Layers>
  result<decap_info> decap_packet(frame& f, Layers layers) noexcept {
    decap_walk c{};
    pending p{};
    if (const errc e = layers(f, c, p); e != errc::ok) return result<decap_info>(e, c.layer);
    return decap_inner_packet(f, c, size_);
  }

  result<byte_span> admit(frame& f, encap_walk& c) const noexcept {
    if (esp_index_ != size_ && !out_) return errc::esp_unknown_spi;  // no outbound SA
    if (esp_index_ != size_ && out_->exhausted()) return errc::sequence_exhausted;
    const auto inner = admit_inner(f, inner_version_, max_inner_, headroom_, tailroom_);
    if (!inner) return result<byte_span>(inner.error(), inner.detail);  // (detail: the tunnel MTU)
    c.inner = inner_for_outer(inner.value(), f);
    return f.data();
  }

  // Writes layers [0, from) innermost first. With `deferred` (a burst), stops after ESP's
  // prepare and leaves its view there; resumed with from = esp_index_.
  [[gnu::noinline]] errc encap_layers(frame& f, encap_walk& c, std::size_t from, esp_packet_view* deferred) noexcept {
    for (std::size_t i = from; i-- > 0;) {
      errc e = errc::ok;
      switch (steps_[i].kind) {
        case layer_kind::ipv4: e = encap_step<layer_kind::ipv4>(f, c, i, deferred); break;
        case layer_kind::ipv6: e = encap_step<layer_kind::ipv6>(f, c, i, deferred); break;
        case layer_kind::udp: e = encap_step<layer_kind::udp>(f, c, i, deferred); break;
        case layer_kind::gre: e = encap_step<layer_kind::gre>(f, c, i, deferred); break;
        case layer_kind::esp: e = encap_step<layer_kind::esp>(f, c, i, deferred); break;
        default: return errc::no_such_layer;  // (refused by the constructor)
      }
      if (e != errc::ok || (deferred && steps_[i].kind == layer_kind::esp)) return e;
    }
    return errc::ok;
  }

  // The protocol number a layer writes for what follows it.
  static std::uint8_t next_proto(const step& s, const encap_walk& c) noexcept {
    return s.next_is_packet ? (c.inner.version == 6 ? ip_proto::ipv6 : ip_proto::ipv4) : s.proto;
  }

  // Layer i, whose kind is K. ESP stops after its prepare in a burst (the caller sees `deferred`).
  template <layer_kind K>
  errc encap_step(frame& f, encap_walk& c, std::size_t i, esp_packet_view* deferred) noexcept {
    const step& s = steps_[i];
    const std::uint8_t proto = next_proto(s, c);
    if constexpr (K == layer_kind::ipv4) {
      encap_ipv4(f, c, s.values.v4, proto, ++ip_id_, opt_.df);
    } else if constexpr (K == layer_kind::ipv6) {
      encap_ipv6(f, c, s.values.v6, proto);
    } else if constexpr (K == layer_kind::udp) {
      encap_udp(f, c, s.values.ports);
    } else if constexpr (K == layer_kind::gre) {
      encap_gre(f, s.gre, proto == ip_proto::ipv6, s.values.gre_key, has(s.gre, gre_opt::seq) ? gre_seq_++ : 0);
    } else {
      static_assert(K == layer_kind::esp);
      if (!out_) return errc::esp_unknown_spi;
      if (deferred) {
        const auto r = out_->encap_prepare(f, proto, esp_room_);
        if (r) *deferred = r.value();
        return r.error();
      }
      return out_->encap(f, proto, esp_room_).error();
    }
    return errc::ok;
  }

  // Opens layers from `from` on, outermost first, in one pass (ESP included: after its
  // ICV passes the walk goes on with the layer inside it). With `deferred` (a burst),
  // stops after ESP's checks and leaves the SA and packet in `p`. Common shapes run
  // unrolled (decap_shape_from); the others through this loop.
  [[gnu::noinline]] errc decap_layers(frame& f, decap_walk& c, std::size_t from, pending* deferred, pending& p) noexcept {
    if (decap_shape_) return (this->*decap_shape_)(f, c, from, deferred, p);
    for (std::size_t i = from; i < written_; ++i) {
      errc e = errc::ok;
      switch (steps_[i].kind) {
        case layer_kind::ipv4: e = decap_step<layer_kind::ipv4>(f, c, i, deferred, p); break;
        case layer_kind::ipv6: e = decap_step<layer_kind::ipv6>(f, c, i, deferred, p); break;
        case layer_kind::udp: e = decap_step<layer_kind::udp>(f, c, i, deferred, p); break;
        case layer_kind::gre: e = decap_step<layer_kind::gre>(f, c, i, deferred, p); break;
        case layer_kind::esp: e = decap_step<layer_kind::esp>(f, c, i, deferred, p); break;
        default: return errc::no_such_layer;  // (refused by the constructor)
      }
      if (e != errc::ok || (deferred && steps_[i].kind == layer_kind::esp)) return e;
    }
    return errc::ok;
  }

  // Layer i, whose kind is K. ESP stops here in a burst (the caller sees `deferred`).
  template <layer_kind K>
  errc decap_step(frame& f, decap_walk& c, std::size_t i, pending* deferred, pending& p) noexcept {
    const step& s = steps_[i];
    c.layer = static_cast<std::uint32_t>(i);
    if constexpr (K == layer_kind::ipv4) {
      return decap_ipv4(f, c, s.next, check_outer_ ? &s.values.v4 : nullptr);
    } else if constexpr (K == layer_kind::ipv6) {
      return decap_ipv6(f, c, s.next, check_outer_ ? &s.values.v6 : nullptr);
    } else if constexpr (K == layer_kind::udp) {
      return decap_udp(f, c, check_outer_ ? &s.values.ports : nullptr, s.next.proto == ip_proto::esp && !s.next.inner);
    } else if constexpr (K == layer_kind::gre) {
      return decap_gre(f, c, s.next, has(s.gre, gre_opt::key) ? std::optional<std::uint32_t>(s.values.gre_key) : std::nullopt);
    } else {
      static_assert(K == layer_kind::esp);
      if (!in_) return errc::esp_unknown_spi;
      if (f.size() < esp_header_size) return errc::truncated;
      esp_sa<Backend>* const sa = in_->find(load_be32(f.begin()), c.outer_source, c.outer_ipv6, c.outer_source_port);
      if (!sa) return errc::esp_unknown_spi;
      if (deferred) {  // a burst: opened with the others, then esp_resume
        const auto r = sa->decap_check(f);
        if (!r) return r.error();
        p = {sa, r.value()};
        return errc::ok;
      }
      const auto r = sa->decap(f);  // (the packet's view stays in registers: no copy read back)
      if (!r) return r.error();
      return decap_esp_next(c, steps_[esp_index_].next, r.value(), sa->authenticated());
    }
  }

  // ---- shapes unrolled at compile time ----------------------------------------------------
  // The layers an endpoint writes, outermost first (the inner packet's own IP header is not
  // one of them). The same decap_step calls as the loop, without its per-layer dispatch:
  // a run-time stack of one of these shapes costs what the typed endpoint's does.
  template <layer_kind... K> struct shape {};
  template <class... S> struct shape_list {};
  using lk = layer_kind;
  using unrolled_shapes = shape_list<
      shape<lk::ipv4, lk::esp>, shape<lk::ipv6, lk::esp>,                                  // tunnel or transport
      shape<lk::ipv4, lk::udp, lk::esp>, shape<lk::ipv6, lk::udp, lk::esp>,                  // NAT-T (RFC 3948)
      shape<lk::ipv4, lk::esp, lk::gre>, shape<lk::ipv6, lk::esp, lk::gre>,                  // GRE over transport ESP
      shape<lk::ipv4, lk::esp, lk::ipv4, lk::gre>, shape<lk::ipv6, lk::esp, lk::ipv6, lk::gre>,  // GRE over tunnel ESP
      shape<lk::ipv4, lk::udp, lk::esp, lk::ipv4, lk::gre>,
      shape<lk::ipv4, lk::gre>, shape<lk::ipv6, lk::gre>>;                                 // plain GRE

  // Whether the stack's layers are this shape; if so, point the unrolled functions at it.
  template <layer_kind... K>
  bool take_shape(shape<K...>) noexcept {
    if (written_ != sizeof...(K)) return false;
    std::size_t i = 0;
    if (!((steps_[i++].kind == K) && ...)) return false;
    decap_one_ = &runtime_endpoint::decap_one<K...>;
    decap_shape_ = &runtime_endpoint::decap_shape_from<0, K...>;
    encap_one_ = &runtime_endpoint::encap_one<K...>;
    if constexpr (template_kinds<K...>) {
      if (template_) encap_one_ = &runtime_endpoint::encap_template<K...>;
    } else {
      template_ = false;
    }
    return true;
  }
  template <class... S>
  void find_shape(shape_list<S...>) noexcept {
    (void)(take_shape(S{}) || ...);  // the first that fits; none: the loop
  }

  // One packet of a shape, admission to result, innermost layer first, every step inlined
  // (as the typed endpoint's encap).
  template <layer_kind... K>
  ENCAP_FLATTEN result<byte_span> encap_one(frame& f) noexcept {
    return encap_packet(f, [this](frame& g, encap_walk& c) {
      constexpr layer_kind kinds[] = {K...};
      errc e = errc::ok;
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        constexpr std::size_t n = sizeof...(K);
        (void)((e = encap_step<kinds[n - 1 - I]>(g, c, n - 1 - I, nullptr), e == errc::ok) && ...);
      }(std::make_index_sequence<sizeof...(K)>{});
      return e;
    });
  }

  // ---- encapsulation from a header template ------------------------------------------------
  // As the typed endpoint's (endpoint::encap_template): each header written at its offset
  // (at_, from the stack's sizes at setup) with its length from the packet's, innermost
  // first as the walk numbers IDs, ESP framed with the SA's sizes; no frame arithmetic per
  // layer. test_runtime_endpoint compares its bytes with the typed endpoint's walk.
  template <layer_kind... K>
  static constexpr bool template_kinds =
      ((K == layer_kind::ipv4 || K == layer_kind::udp || K == layer_kind::gre || K == layer_kind::esp) && ...) &&
      ((K == layer_kind::esp) + ...) == 1;

  template <layer_kind... K>
  ENCAP_FLATTEN result<byte_span> encap_template(frame& f) noexcept {
    if (!out_ || out_->tfc_padding() || !out_->fast_ready()) return encap_by_walk<K...>(f);
    encap_walk c{};
    if (const auto r = admit(f, c); !r) return r;
    c.inner.df = outer_df(opt_.df, c.inner.df);  // the outer headers' DF from here on
    constexpr layer_kind kinds[] = {K...};
    constexpr std::size_t n = sizeof...(K);
    constexpr std::size_t e = [] {
      for (std::size_t i = 0; i < n; ++i)
        if (kinds[i] == layer_kind::esp) return i;
      return n;
    }();
    const std::size_t total = at_[n], len = f.size();
    std::uint8_t* const outer = f.begin() - total;
    const std::uint16_t ip_id = ip_id_;
    const std::uint32_t gre_seq = gre_seq_;
    [&]<std::size_t... I>(std::index_sequence<I...>) {  // inside ESP
      (write_at<kinds[n - 1 - I]>(outer, n - 1 - I, total + len, c), ...);
    }(std::make_index_sequence<n - 1 - e>{});
    const std::size_t esp_len = out_->encap_sized(outer + at_[e], total - at_[e + 1] + len, next_proto(steps_[e], c));
    if (esp_len == 0) {
      ip_id_ = ip_id;
      gre_seq_ = gre_seq;
      return errc::crypto_failure;
    }
    [&]<std::size_t... I>(std::index_sequence<I...>) {  // outside it
      (write_at<kinds[e - 1 - I]>(outer, e - 1 - I, at_[e] + esp_len, c), ...);
    }(std::make_index_sequence<e>{});
    (void)f.push(total);
    (void)f.put(at_[e] + esp_len - f.size());
    return f.data();
  }
  template <layer_kind... K>
  ENCAP_NOINLINE result<byte_span> encap_by_walk(frame& f) noexcept { return encap_one<K...>(f); }

  // Layer i (kind K) at its offset from the outer packet's start; `end`: where the packet ends.
  template <layer_kind K>
  void write_at(std::uint8_t* outer, std::size_t i, std::size_t end, const encap_walk& c) noexcept {
    const step& s = steps_[i];
    std::uint8_t* const h = outer + at_[i];
    const std::size_t len = end - at_[i];
    const std::uint8_t proto = next_proto(s, c);
    if constexpr (K == layer_kind::ipv4) {
      write_ipv4(h, len, {s.values.v4.src, s.values.v4.dst, c.inner.tos, s.values.v4.ttl, proto, ++ip_id_, c.inner.df});
    } else if constexpr (K == layer_kind::udp) {
      write_udp(h, s.values.ports.src_port, s.values.ports.dst_port, len);
    } else {
      static_assert(K == layer_kind::gre);
      write_gre(h, len - gre_header_size(s.gre), s.gre, proto == ip_proto::ipv6 ? ether_type::ipv6 : ether_type::ipv4,
                s.values.gre_key, has(s.gre, gre_opt::seq) ? gre_seq_++ : 0);
    }
  }

  // One packet of a shape: every step inlined into one function, `from` and `deferred` constants.
  template <layer_kind... K>
  ENCAP_FLATTEN result<decap_info> decap_one(frame& f) noexcept {
    return decap_packet(f, [this](frame& g, decap_walk& c, pending& p) { return decap_shape_from<0, K...>(g, c, 0, nullptr, p); });
  }

  // Layers [from, end) of a shape, a burst's ESP stopping after its checks (decap_layers).
  template <std::size_t I, layer_kind K, layer_kind... Rest>
  errc decap_shape_from(frame& f, decap_walk& c, std::size_t from, pending* deferred, pending& p) noexcept {
    if (I >= from) {
      if (const errc e = decap_step<K>(f, c, I, deferred, p); e != errc::ok) return e;
      if constexpr (K == layer_kind::esp)
        if (deferred) return errc::ok;
    }
    if constexpr (sizeof...(Rest) > 0) return decap_shape_from<I + 1, Rest...>(f, c, from, deferred, p);
    else return errc::ok;
  }

  // The ESP layer after its ICV passed: padding, window, next header.
  errc esp_finish(frame& f, decap_walk& c, esp_sa<Backend>* sa, const typename esp_sa<Backend>::inbound& in) noexcept {
    const auto r = sa->decap_finish(f, in);
    if (!r) return r.error();
    return decap_esp_next(c, steps_[esp_index_].next, r.value(), sa->authenticated());
  }

  // A burst's packet after its ICV passed: the ESP layer, then the layers inside.
  errc esp_resume(frame& f, decap_walk& c, pending& p) noexcept {
    c.layer = static_cast<std::uint32_t>(esp_index_);
    if (const errc e = esp_finish(f, c, p.sa, p.in); e != errc::ok) return e;
    return decap_layers(f, c, esp_index_ + 1, nullptr, p);
  }

  std::array<step, max_layers> steps_{};
  std::array<std::size_t, max_layers + 1> at_{};  // where layer i's header starts, from the outer packet's start
  bool template_ = false;                          // a shape encap_template writes
  layer_rule esp_rule_{};  // the stack's ESP layer: an outbound SA must fit it
  tunnel_options opt_;
  esp_sa<Backend>* out_ = nullptr;
  sa_table<Backend>* in_ = nullptr;
  std::size_t size_ = 0, written_ = 0, esp_index_ = max_layers;
  bool inner_ip_layer_ = false;
  std::uint8_t inner_version_ = 0;
  std::size_t headroom_ = 0, tailroom_ = 0, max_inner_ = 0, esp_room_ = unlimited;
  bool check_outer_ = false;
  // the stack's unrolled shape (nullptr: none, the per-layer loop)
  result<decap_info> (runtime_endpoint::*decap_one_)(frame&) noexcept = nullptr;
  errc (runtime_endpoint::*decap_shape_)(frame&, decap_walk&, std::size_t, pending*, pending&) noexcept = nullptr;
  result<byte_span> (runtime_endpoint::*encap_one_)(frame&) noexcept = nullptr;
  std::uint16_t ip_id_ = 0;
  std::uint32_t gre_seq_ = 0;
};

}  // namespace v0
}  // namespace encap
