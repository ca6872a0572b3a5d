#pragma once
// A non-owning reference to a callable: two pointers, never allocates (std::function allocates for any
// lambda capturing more than two pointers). The callable must outlive the reference, so bind it to a named
// object, never to a temporary lambda.
#include <type_traits>
#include <utility>

namespace sluice {

template <class Signature>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  FunctionRef() = default;
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> && std::is_invocable_r_v<R, F&, Args...>)
      FunctionRef(F& f)  // NOLINT(google-explicit-constructor): binding a callable is the point
      : obj_(static_cast<void*>(&f)),
        call_([](void* o, Args... args) -> R { return (*static_cast<F*>(o))(std::forward<Args>(args)...); }) {
  }

  explicit operator bool() const { return call_ != nullptr; }
  R operator()(Args... args) const { return call_(obj_, std::forward<Args>(args)...); }

 private:
  void* obj_ = nullptr;
  R (*call_)(void*, Args...) = nullptr;
};

}  // namespace sluice
