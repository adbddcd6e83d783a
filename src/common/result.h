// Result<T, E>: a value or an error reason, shaped like C++23 std::expected.
// Used by the pure layers (protocol, meter), which are built without exceptions.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace imsm {

template <class E>
struct Unexpected {
  E error;
};

template <class E>
[[nodiscard]] constexpr Unexpected<E> unexpected(E e) {
  return Unexpected<E>{std::move(e)};
}

template <class T, class E>
class [[nodiscard]] Result {
 public:
  constexpr Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}            // NOLINT
  constexpr Result(Unexpected<E> e) : v_(std::in_place_index<1>, std::move(e.error)) {}  // NOLINT

  [[nodiscard]] constexpr bool has_value() const { return v_.index() == 0; }
  constexpr explicit operator bool() const { return has_value(); }

  constexpr const T& value() const& {
    assert(has_value());
    return *std::get_if<0>(&v_);
  }
  constexpr T& value() & {
    assert(has_value());
    return *std::get_if<0>(&v_);
  }
  constexpr T&& value() && {
    assert(has_value());
    return std::move(*std::get_if<0>(&v_));
  }
  constexpr const E& error() const& {
    assert(!has_value());
    return *std::get_if<1>(&v_);
  }
  constexpr const T& operator*() const& { return value(); }
  constexpr T& operator*() & { return value(); }
  constexpr const T* operator->() const { return &value(); }
  constexpr T* operator->() { return &value(); }

 private:
  std::variant<T, E> v_;
};

}  // namespace imsm
