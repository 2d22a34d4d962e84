# A translation unit that must not compile, and whose diagnostic must name the rule in
# its first lines: the text after "// expect: " on the file's first line must appear in
# the first LINES lines the compiler prints (the embedding issue: GCC 12 and Clang 14 each).
#   cmake -DCXX=... -DINCLUDE=... -DSOURCE=file.cpp [-DLINES=8] -P compile_fail.cmake
cmake_policy(SET CMP0007 NEW)
if(NOT LINES)
  set(LINES 8)
endif()
file(STRINGS ${SOURCE} first LIMIT_COUNT 1)
string(REGEX REPLACE "^// expect: " "" expect "${first}")
execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -I${INCLUDE} ${SOURCE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled; it must not")
endif()
string(REPLACE "\n" ";" lines "${err}")
list(LENGTH lines n)
if(n GREATER LINES)
  list(SUBLIST lines 0 ${LINES} lines)
endif()
string(JOIN "\n" head ${lines})
string(FIND "${head}" "${expect}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the first ${LINES} lines do not say '${expect}':\n${head}")
endif()
message(STATUS "first ${LINES} lines name the rule '${expect}'")
