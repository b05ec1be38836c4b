#pragma once
// AlignedBuffer: zero-filled bytes on a 64-byte boundary (one cache line,
// one AVX-512 vector), so aligned vector loads are valid at every multiple
// of 64.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

namespace lpu::kernels {

class AlignedBuffer {
 public:
  static constexpr std::size_t kAlignment = 64;

  AlignedBuffer() = default;
  /// `bytes` zero bytes.
  explicit AlignedBuffer(std::size_t bytes)
      : data_(bytes == 0 ? nullptr
                         : static_cast<std::uint8_t*>(
                               ::operator new(bytes, std::align_val_t(kAlignment)))),
        size_(bytes) {
    if (bytes != 0) std::memset(data_.get(), 0, bytes);
  }

  std::uint8_t* data() { return data_.get(); }
  const std::uint8_t* data() const { return data_.get(); }
  std::size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(std::uint8_t* p) const { ::operator delete(p, std::align_val_t(kAlignment)); }
  };
  std::unique_ptr<std::uint8_t, Free> data_;
  std::size_t size_ = 0;
};

}  // namespace lpu::kernels
