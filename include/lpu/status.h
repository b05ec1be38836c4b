#pragma once
// lpu::Status and lpu::Result<T>: the one error type of the library.
//
// Every fallible call returns a Status (or a Result<T> holding either a value
// or a non-OK Status). Messages name the file, byte offset, tensor, key or
// request involved and what was expected. No exception crosses the API.

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace lpu {

namespace internal {
/// The library's own access to the classes' state (lib/core/access.h);
/// nothing an application uses.
struct Access;
}  // namespace internal

/// Canonical error codes (a subset of the usual canonical set).
enum class StatusCode : std::uint8_t {
  kOk = 0,
  kInvalidArgument,
  kOutOfRange,
  kNotFound,
  kDataLoss,
  kResourceExhausted,
  kUnimplemented,
  kFailedPrecondition,
  kInternal,
};

/// Returns a stable lower-case name for a code, e.g. "invalid_argument".
std::string_view status_code_name(StatusCode code);

/// An OK marker or an error code with a message. Cheap to move; OK holds no
/// allocation.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  /// "code: message", or "ok".
  std::string to_string() const;

  /// Returns this status with `context + ": "` prefixed to the message; used
  /// as an error travels up (see LPU_TRY).
  Status with_context(std::string_view context) const&;
  Status with_context(std::string_view context) &&;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status invalid_argument(std::string message);
Status out_of_range(std::string message);
Status not_found(std::string message);
Status data_loss(std::string message);
Status resource_exhausted(std::string message);
Status unimplemented(std::string message);
Status failed_precondition(std::string message);
Status internal_error(std::string message);

namespace detail {
/// Prints "lpu: <status>" to stderr and aborts: what value() does on an error.
[[noreturn]] void abort_on_error(const Status& status);
}  // namespace detail

/// Either a T or a non-OK Status. value() (and * and ->) on an error print
/// the error and abort the process; check ok() first to handle it.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "Result built from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  /// The error; OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & {
    check();
    return std::get<T>(v_);
  }
  const T& value() const& {
    check();
    return std::get<T>(v_);
  }
  T&& value() && {
    check();
    return std::get<T>(std::move(v_));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void check() const {
    if (!ok()) detail::abort_on_error(std::get<Status>(v_));
  }
  std::variant<T, Status> v_;
};

namespace detail {
inline Status to_status(const Status& s) { return s; }
inline Status to_status(Status&& s) { return std::move(s); }
template <typename T>
Status to_status(const Result<T>& r) {
  return r.status();
}
}  // namespace detail

}  // namespace lpu

#define LPU_CONCAT_INNER_(a, b) a##b
#define LPU_CONCAT_(a, b) LPU_CONCAT_INNER_(a, b)

/// Returns the error of `expr` (a Status) from the enclosing function, with
/// `context` prefixed. Usage: LPU_TRY(read_header(r), "header");
#define LPU_TRY(expr, context)                                          \
  do {                                                                  \
    ::lpu::Status lpu_try_status_ = ::lpu::detail::to_status((expr));   \
    if (!lpu_try_status_.ok()) return std::move(lpu_try_status_).with_context(context); \
  } while (0)

/// Assigns the value of a Result expression to `lhs`, or returns its error.
/// Usage: LPU_ASSIGN_OR_RETURN(auto file, gguf::File::open(path));
#define LPU_ASSIGN_OR_RETURN(lhs, expr) \
  LPU_ASSIGN_OR_RETURN_IMPL_(LPU_CONCAT_(lpu_result_, __LINE__), lhs, expr)
#define LPU_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
