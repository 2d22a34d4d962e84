# A minimal static Botan 3 from a local source tarball (../shared/third_party in CI),
# built once into <build>/botan3 at configure time and put on CMAKE_PREFIX_PATH, so that
# encap_find_botan() finds it as a user's installed Botan 3 would be found. Only the
# modules the backend uses (and encap-bench's raw ChaCha20-Poly1305 baseline), with their
# x86 fast paths (AES-NI/VAES, CLMUL, SHA-NI, AVX2/AVX-512 ChaCha); no locking allocator, so Botan's secure_vector goes through calloc,
# where the tests' allocation counters see it. Nothing is downloaded.
function(encap_botan3_from_source tarball)
  set(root ${PROJECT_BINARY_DIR}/botan3)
  set(prefix ${root}/install)
  set(modules aes aes_ni aes_vaes aes_vperm gcm ghash_cpu ghash_vperm ctr cbc chacha chacha20poly1305 chacha_simd32 chacha_avx2
              chacha_avx512 poly1305 hmac md5 sha1 sha1_sse2 sha1_x86 sha2_32 sha2_32_x86 sha2_32_bmi2 sha2_64
              sha2_64_bmi2 cmac)
  string(REPLACE ";" "," modules "${modules}")
  string(SHA256 stamp "${tarball};${modules};${CMAKE_CXX_COMPILER}")
  if(NOT EXISTS ${prefix}/lib/pkgconfig/botan-3.pc OR NOT EXISTS ${root}/${stamp}.stamp)
    if(NOT EXISTS "${tarball}")
      message(FATAL_ERROR "encap: ENCAP_BOTAN3_SOURCE: no such file: ${tarball}")
    endif()
    find_package(Python3 REQUIRED COMPONENTS Interpreter)
    message(STATUS "encap: building Botan 3 from ${tarball} into ${root} (once)")
    file(REMOVE_RECURSE ${root})
    file(MAKE_DIRECTORY ${root})
    execute_process(COMMAND ${CMAKE_COMMAND} -E tar xf ${tarball} WORKING_DIRECTORY ${root} COMMAND_ERROR_IS_FATAL ANY)
    file(GLOB src LIST_DIRECTORIES true ${root}/botan-3*)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      set(cc clang)
    else()
      set(cc gcc)
    endif()
    cmake_host_system_information(RESULT jobs QUERY NUMBER_OF_LOGICAL_CORES)
    execute_process(COMMAND ${Python3_EXECUTABLE} ${src}/configure.py --minimized-build --enable-modules=${modules}
                            --disable-shared-library --build-targets=static --without-documentation
                            --cc=${cc} --cc-bin=${CMAKE_CXX_COMPILER} --prefix=${prefix} --with-build-dir=${root}/build
                            --link-method=copy
                    WORKING_DIRECTORY ${src} OUTPUT_FILE ${root}/configure.log ERROR_FILE ${root}/configure.log
                    COMMAND_ERROR_IS_FATAL ANY)
    execute_process(COMMAND make -f ${root}/build/Makefile -j${jobs} libs
                    WORKING_DIRECTORY ${src} OUTPUT_FILE ${root}/build.log ERROR_FILE ${root}/build.log
                    COMMAND_ERROR_IS_FATAL ANY)
    execute_process(COMMAND make -f ${root}/build/Makefile install
                    WORKING_DIRECTORY ${src} OUTPUT_FILE ${root}/install.log ERROR_FILE ${root}/install.log
                    COMMAND_ERROR_IS_FATAL ANY)
    file(REMOVE_RECURSE ${src} ${root}/build)
    file(TOUCH ${root}/${stamp}.stamp)
  endif()
  set(CMAKE_PREFIX_PATH ${prefix} ${CMAKE_PREFIX_PATH} PARENT_SCOPE)
endfunction()
