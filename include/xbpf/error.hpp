// Errors are values with context: what went wrong and where, never an abort.
//
// Every fallible operation in xbpf returns Result<T>. An Error carries a message (what and why)
// and a chain of locations from the innermost ("instruction 12") to the outermost
// ("prog.o"), added as the error travels up through the layers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace xbpf {

// What kind of failure an Error reports, for callers that react differently (the command line
// exits 1 for a rejected or faulting program and 2 for bad input).
enum class ErrorKind : uint8_t {
    Invalid,   // bad input, arguments or state: the default
    Rejected,  // the verifier refused a program
    Fault,     // a program stopped abnormally while running (checked mode, call depth...)
};

class Error {
  public:
    Error() = default;
    explicit Error(std::string message, ErrorKind kind = ErrorKind::Invalid)
        : message_(std::move(message)), kind_(kind) {}

    ErrorKind kind() const { return kind_; }

    // The problem itself, without location.
    const std::string& message() const { return message_; }
    // Locations, outermost first ("prog.o", "section xdp", "instruction 12").
    const std::vector<std::string>& where() const { return where_; }

    // Adds an enclosing location; returns *this so callers can `return err.in("file.o")`.
    Error& in(std::string location) & {
        where_.insert(where_.begin(), std::move(location));
        return *this;
    }
    Error&& in(std::string location) && {
        where_.insert(where_.begin(), std::move(location));
        return std::move(*this);
    }

    // "prog.o: section xdp: instruction 12: message".
    std::string to_string() const {
        std::string out;
        for (const auto& w : where_) {
            out += w;
            out += ": ";
        }
        out += message_;
        return out;
    }

  private:
    std::string message_;
    std::vector<std::string> where_;
    ErrorKind kind_ = ErrorKind::Invalid;
};

// A value or an Error. Deliberately small: C++20 has no std::expected.
template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

  private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

    bool ok() const { return !error_.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error& error() const& { return *error_; }
    Error&& error() && { return std::move(*error_); }

  private:
    std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace xbpf
