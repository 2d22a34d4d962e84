// encap/encap.hpp — everything but the crypto backends.
#pragma once

#define ENCAP_VERSION_MAJOR 0
#define ENCAP_VERSION_MINOR 1
#define ENCAP_VERSION_PATCH 0

#include "crypto/suites.hpp"
#include "layering.hpp"
#include "layers/esp.hpp"
#include "layers/ethernet.hpp"
#include "layers/geneve.hpp"
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
#include "result.hpp"
#include "sizing.hpp"
#include "spec.hpp"
#include "stack.hpp"
