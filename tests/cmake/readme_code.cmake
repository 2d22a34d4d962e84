# README.md shows examples/embedding.cpp verbatim (the file is built and run by ctest).
file(READ ${SOURCE_DIR}/README.md readme)
file(READ ${SOURCE_DIR}/examples/embedding.cpp program)
string(FIND "${readme}" "```cpp\n${program}```" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md's embedding program is not examples/embedding.cpp verbatim")
endif()
