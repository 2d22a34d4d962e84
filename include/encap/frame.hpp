// encap/frame.hpp — a packet inside caller-owned storage, with headroom in front and
// tailroom behind. Encapsulation pushes headers into the headroom and puts trailers
// into the tailroom; decapsulation pulls and trims. Nothing is copied or allocated.
//
//   storage: [ headroom | data .............. | tailroom ]
//            0          head                  tail       size
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "bytes.hpp"

namespace encap {
inline namespace v0 {

class frame {
 public:
  constexpr frame() = default;
  // The packet is storage[head, head + length). Checked in every build, not only by an
  // assert: bounds outside the storage give an empty frame with no storage and no room,
  // on which every operation fails (push/put false, encap bad_inner_packet, decap
  // truncated) and nothing is ever written.
  constexpr frame(byte_span storage, std::size_t head, std::size_t length) noexcept
      : buf_(within(storage, head, length) ? storage : byte_span{}),
        head_(within(storage, head, length) ? head : 0),
        tail_(within(storage, head, length) ? head + length : 0) {}

  // (not subspan(): its test for a count of dynamic_extent is two instructions a call on the data path)
  constexpr byte_span data() const noexcept { return {buf_.data() + head_, tail_ - head_}; }
  constexpr std::uint8_t* begin() const noexcept { return buf_.data() + head_; }
  constexpr std::size_t size() const noexcept { return tail_ - head_; }
  constexpr std::size_t headroom() const noexcept { return head_; }
  constexpr std::size_t tailroom() const noexcept { return buf_.size() - tail_; }
  constexpr byte_span storage() const noexcept { return buf_; }
  constexpr std::size_t offset() const noexcept { return head_; }

  // Grow at the front by n bytes; false (frame unchanged) if the headroom is short.
  [[nodiscard]] constexpr bool push(std::size_t n) noexcept {
    if (n > head_) return false;
    head_ -= n;
    return true;
  }
  // Shrink at the front by n bytes; false if the packet is shorter.
  [[nodiscard]] constexpr bool pull(std::size_t n) noexcept {
    if (n > size()) return false;
    head_ += n;
    return true;
  }
  // Grow at the back by n bytes; false if the tailroom is short.
  [[nodiscard]] constexpr bool put(std::size_t n) noexcept {
    if (n > tailroom()) return false;
    tail_ += n;
    return true;
  }
  // Shrink at the back by n bytes; false if the packet is shorter.
  [[nodiscard]] constexpr bool trim(std::size_t n) noexcept {
    if (n > size()) return false;
    tail_ -= n;
    return true;
  }
  // Keep only the first n bytes (n <= size()).
  [[nodiscard]] constexpr bool truncate(std::size_t n) noexcept { return n <= size() && trim(size() - n); }
  // Back to this frame's earlier headroom() and size(), after an operation that pushed
  // headers and put a trailer failed. (Rather than a copy of the frame kept and assigned
  // back: GCC loads that copy in one wide load over the caller's narrow stores, a
  // store-forwarding stall on every packet.)
  constexpr void put_back(std::size_t front, std::size_t length) noexcept {  // front: the earlier headroom()
    if (front >= head_) (void)pull(front - head_);
    (void)truncate(length);
  }

 private:
  static constexpr bool within(byte_span storage, std::size_t head, std::size_t length) noexcept {
    return head <= storage.size() && length <= storage.size() - head;
  }

  byte_span buf_{};
  std::size_t head_ = 0, tail_ = 0;
};

}  // namespace v0
}  // namespace encap
