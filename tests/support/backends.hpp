// Test support: every crypto backend this build has, for TEST_CASE_TEMPLATE.
#pragma once

#include <encap/crypto/botan.hpp>
#ifdef ENCAP_HAVE_IPSEC_MB
#include <encap/crypto/ipsec_mb.hpp>
#define ENCAP_BACKENDS encap::botan_backend, encap::ipsec_mb_backend
#else
#define ENCAP_BACKENDS encap::botan_backend
#endif
