# The crypto backends' libraries as imported targets, found from the system: used by
# encap's own build and, installed, by encapConfig.cmake for find_package(encap
# COMPONENTS botan ipsec_mb). Nothing is downloaded.

# Botan as encapBotan::Botan: Botan 3 first (its CMake package, else pkg-config botan-3),
# then Botan 2 (pkg-config botan-2, Debian 12's libbotan-2-dev). ENCAP_BOTAN_VERSION = 2
# or 3 takes only that one (where both are installed). encap's Botan header builds
# against either. Include directories of imported targets come in as system ones, so
# Botan's own warnings stay out of users' builds. ENCAP_BOTAN_FOUND_VERSION: the one found.
function(encap_find_botan)
  if(TARGET encapBotan::Botan)
    return()
  endif()
  if(NOT ENCAP_BOTAN_VERSION)
    set(ENCAP_BOTAN_VERSION auto)
  endif()
  if(ENCAP_BOTAN_VERSION MATCHES "^(auto|3)$")
    find_package(Botan 3.7 CONFIG QUIET)
    foreach(target Botan::Botan Botan::Botan-static)
      if(Botan_FOUND AND TARGET ${target} AND NOT TARGET encapBotan::Botan)
        add_library(encapBotan::Botan INTERFACE IMPORTED GLOBAL)
        target_link_libraries(encapBotan::Botan INTERFACE ${target})
        set(ENCAP_BOTAN_FOUND_VERSION "${Botan_VERSION}" CACHE INTERNAL "")
        return()
      endif()
    endforeach()
  endif()
  find_package(PkgConfig QUIET)
  if(NOT PkgConfig_FOUND)
    return()
  endif()
  foreach(major 3 2)
    if(ENCAP_BOTAN_VERSION MATCHES "^(auto|${major})$")
      if(major EQUAL 3)
        pkg_check_modules(ENCAP_BOTAN${major} QUIET IMPORTED_TARGET GLOBAL botan-3>=3.7)
      else()
        pkg_check_modules(ENCAP_BOTAN${major} QUIET IMPORTED_TARGET GLOBAL botan-2>=2.19)
      endif()
      if(ENCAP_BOTAN${major}_FOUND)
        add_library(encapBotan::Botan INTERFACE IMPORTED GLOBAL)
        target_link_libraries(encapBotan::Botan INTERFACE PkgConfig::ENCAP_BOTAN${major})
        set(ENCAP_BOTAN_FOUND_VERSION "${ENCAP_BOTAN${major}_VERSION}" CACHE INTERNAL "")
        return()
      endif()
    endif()
  endforeach()
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
