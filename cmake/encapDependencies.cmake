# The crypto backends' libraries as imported targets, found from the system: used by
# encap's own build and, installed, by encapConfig.cmake for find_package(encap
# COMPONENTS botan ipsec_mb). Nothing is downloaded.

# Botan 2 (Debian libbotan-2-dev) through pkg-config: Botan2::Botan2. Its include
# directory comes in as a system one, so Botan's own warnings stay out of users' builds.
function(encap_find_botan2)
  if(TARGET Botan2::Botan2)
    return()
  endif()
  find_package(PkgConfig QUIET)
  if(NOT PkgConfig_FOUND)
    return()
  endif()
  pkg_check_modules(ENCAP_BOTAN2 QUIET IMPORTED_TARGET GLOBAL botan-2)
  if(ENCAP_BOTAN2_FOUND)
    add_library(Botan2::Botan2 INTERFACE IMPORTED GLOBAL)
    target_link_libraries(Botan2::Botan2 INTERFACE PkgConfig::ENCAP_BOTAN2)
  endif()
endfunction()

# intel-ipsec-mb (Debian libipsec-mb-dev): IPSec_MB::IPSec_MB.
function(encap_find_ipsec_mb)
  if(TARGET IPSec_MB::IPSec_MB)
    return()
  endif()
  find_path(ENCAP_IPSEC_MB_INCLUDE_DIR intel-ipsec-mb.h)
  find_library(ENCAP_IPSEC_MB_LIBRARY IPSec_MB)
  if(ENCAP_IPSEC_MB_INCLUDE_DIR AND ENCAP_IPSEC_MB_LIBRARY)
    add_library(IPSec_MB::IPSec_MB UNKNOWN IMPORTED GLOBAL)
    set_target_properties(IPSec_MB::IPSec_MB PROPERTIES IMPORTED_LOCATION "${ENCAP_IPSEC_MB_LIBRARY}"
                                                        INTERFACE_INCLUDE_DIRECTORIES "${ENCAP_IPSEC_MB_INCLUDE_DIR}")
  endif()
endfunction()
