# Install encap from BINARY_DIR into a fresh prefix, then configure and build
# tests/consumer against it with find_package(encap 0.2 REQUIRED COMPONENTS ${COMPONENTS}),
# warnings as errors (Botan's headers must not warn in a user's build), and run it.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${WORK_DIR}/prefix RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
if(NOT EXISTS ${WORK_DIR}/prefix/include/encap/encap.hpp)
  message(FATAL_ERROR "headers not installed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build
                        -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_CXX_COMPILER=${CXX} "-DCOMPONENTS=${COMPONENTS}"
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "consumer configure failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "consumer build failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out)
string(REPLACE "," ";" comps "${COMPONENTS}")
foreach(c IN LISTS comps)
  if(NOT out MATCHES "${c}: round trip ok")
    message(FATAL_ERROR "consumer: no round trip through ${c}: ${out}")
  endif()
endforeach()
if(rc OR NOT out MATCHES "1414")
  message(FATAL_ERROR "consumer run failed (${rc}): ${out}")
endif()
message(STATUS "consumer: ${out}")

# The same program with add_subdirectory(encap) instead of find_package.
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build-subdir
                        -DCMAKE_CXX_COMPILER=${CXX} "-DCOMPONENTS=${COMPONENTS}" -DENCAP_SUBDIR=${SOURCE_DIR}
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "add_subdirectory consumer configure failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build-subdir RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "add_subdirectory consumer build failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/build-subdir/consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(rc OR NOT out MATCHES "1414")
  message(FATAL_ERROR "add_subdirectory consumer run failed (${rc}): ${out}")
endif()
message(STATUS "consumer (add_subdirectory): ${out}")
