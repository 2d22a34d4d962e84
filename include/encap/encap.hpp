// encap/encap.hpp — everything but the crypto backends: the MTU math, stacks and spec,
// the data path (frame, SA, endpoint), PMTU helpers and pcap. A backend is one more
// include: <encap/crypto/botan.hpp> (encap::botan) or <encap/crypto/ipsec_mb.hpp>
// (encap::ipsec_mb). A program that needs only the math may include <encap/stack.hpp>
// or <encap/spec.hpp> alone (standard library only).
#pragma once

#define ENCAP_VERSION_MAJOR 0
#define ENCAP_VERSION_MINOR 2
#define ENCAP_VERSION_PATCH 0

#include "bytes.hpp"
#include "crypto/esp_crypto.hpp"
#include "crypto/suite_aliases.hpp"
#include "crypto/suite_names.hpp"
#include "crypto/suites.hpp"
#include "endpoint.hpp"
#include "endpoint_common.hpp"
#include "esp_sa.hpp"
#include "fragment.hpp"
#include "frame.hpp"
#include "icmp.hpp"
#include "layering.hpp"
#include "layers/esp.hpp"
#include "layers/ethernet.hpp"
#include "layers/geneve.hpp"
#include "layers/ip.hpp"
#include "layers/gre.hpp"
#include "layers/ipv4.hpp"
#include "layers/ipv6.hpp"
#include "layers/l2tpv3.hpp"
#include "layers/macsec.hpp"
#include "layers/mpls.hpp"
#include "layers/pppoe.hpp"
#include "layers/udp.hpp"
#include "layers/vxlan.hpp"
#include "layers/wireguard.hpp"
#include "mss.hpp"
#include "pcap.hpp"
#include "replay.hpp"
#include "result.hpp"
#include "runtime_endpoint.hpp"
#include "sa_config.hpp"
#include "sa_table.hpp"
#include "sizing.hpp"
#include "spec.hpp"
#include "stack.hpp"
#include "text_error.hpp"
#include "wire/esp.hpp"
#include "wire/gre.hpp"
#include "wire/ip.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/udp.hpp"
#include "wire/walk.hpp"
