// Test support: every operator new in the binary that includes this (once) is counted,
// and, outside sanitizers, every malloc, calloc, realloc and aligned allocation too:
// Botan's secure_vector allocates with calloc, past operator new. (Under ASan/TSan the
// sanitizer owns malloc, so only operator new is counted; malloc_counted says which.)
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace encap::test {
inline std::atomic<long> allocations{0};  // operator new
inline std::atomic<long> mallocs{0};      // the C allocator, where counted
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

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define ENCAP_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ENCAP_TEST_SANITIZED 1
#endif

#if defined(__GLIBC__) && !defined(ENCAP_TEST_SANITIZED)
namespace encap::test {
inline constexpr bool malloc_counted = true;
}
// glibc's allocator under its own names: these definitions replace malloc and friends in
// the whole process, count, and hand over (glibc documents replacing malloc, free, calloc
// and realloc together; the aligned ones are counted on the way in).
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);
void* __libc_memalign(std::size_t, std::size_t);

void* malloc(std::size_t n) noexcept {
  encap::test::mallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) noexcept {
  encap::test::mallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) noexcept {
  encap::test::mallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
void free(void* p) noexcept { __libc_free(p); }
void* aligned_alloc(std::size_t align, std::size_t n) noexcept {
  encap::test::mallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) noexcept {
  encap::test::mallocs.fetch_add(1, std::memory_order_relaxed);
  void* p = __libc_memalign(align, n);
  if (!p) return 12;  // ENOMEM
  *out = p;
  return 0;
}
}
#else
namespace encap::test {
inline constexpr bool malloc_counted = false;
}
#endif

namespace encap::test {
// Every allocation so far, at both levels.
inline long allocations_so_far() noexcept { return allocations.load() + mallocs.load(); }
}
