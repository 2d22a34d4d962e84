// Test support: every operator new in the binary that includes this (once) is counted,
// so a test can assert that a data path allocates nothing.
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

namespace encap::test {
inline std::atomic<long> allocations{0};
}

void* operator new(std::size_t n) {
  encap::test::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
