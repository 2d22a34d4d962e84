// encap/crypto/detail/botan_ghash.hpp — Botan 2's GHASH, behind a system-header pragma:
// <botan/ghash.h> announces with a GCC warning pragma that it "will be made internal",
// which a user's -Werror would turn into an error wherever Botan's include directory is
// not a system one. Included only with Botan 2: Botan 3 made GHASH internal (botan.hpp).
#pragma once
#pragma GCC system_header

#include <botan/ghash.h>
