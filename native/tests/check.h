// A self-contained test runner for the native core's plain C++ unit tests (no framework):
//   TEST(Name) { CHECK(condition); CHECK_EQ(actual, expected); }
// Every TEST registers itself; run_tests (main.cc) runs them all, or those named on its command
// line, and prints one `PASS Name` or `FAIL Name: file:line: what` line per case. A failed CHECK
// ends its case (later checks often depend on it, e.g. an fd that was never made).
#ifndef DROIDWAY_NATIVE_TESTS_CHECK_H_
#define DROIDWAY_NATIVE_TESTS_CHECK_H_

#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace droidway {
namespace test {

struct Case {
  const char* name;
  void (*run)();
};

/** Every registered case, in registration order. */
std::vector<Case>& Cases();
/** Records the current case's failure (the runner prints it). */
void Fail(const char* file, int line, const std::string& what);

struct Registration {
  Registration(const char* name, void (*run)()) { Cases().push_back({name, run}); }
};

template <typename T>
std::string Show(const T& value) {
  std::ostringstream out;
  if constexpr (std::is_same_v<T, std::string>) {
    out << '"' << value << '"';
  } else if constexpr (std::is_same_v<T, bool>) {
    out << (value ? "true" : "false");
  } else if constexpr (std::is_enum_v<T>) {
    out << static_cast<long long>(value);
  } else if constexpr (std::is_integral_v<T> && sizeof(T) == 1) {
    out << static_cast<int>(value);
  } else {
    out << value;
  }
  return out.str();
}

}  // namespace test
}  // namespace droidway

#define TEST(name)                                                               \
  static void name();                                                            \
  static const ::droidway::test::Registration name##_registration(#name, &name); \
  static void name()

#define CHECK(condition)                                                          \
  do {                                                                            \
    if (!(condition)) {                                                           \
      ::droidway::test::Fail(__FILE__, __LINE__, "CHECK(" #condition ") failed"); \
      return;                                                                     \
    }                                                                             \
  } while (0)

#define CHECK_EQ(actual, expected)                                                           \
  do {                                                                                       \
    const auto& check_actual_ = (actual);                                                    \
    const auto& check_expected_ = (expected);                                                \
    if (!(check_actual_ == check_expected_)) {                                               \
      ::droidway::test::Fail(                                                                \
          __FILE__, __LINE__,                                                                \
          "CHECK_EQ(" #actual ", " #expected "): " + ::droidway::test::Show(check_actual_) + \
              " != " + ::droidway::test::Show(check_expected_));                             \
      return;                                                                                \
    }                                                                                        \
  } while (0)

#endif  // DROIDWAY_NATIVE_TESTS_CHECK_H_
