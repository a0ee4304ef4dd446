// Runs the cases registered with TEST (check.h):
//   run_tests            # every case
//   run_tests NAME...    # the named cases (an unknown name is an error)
//   run_tests --list     # the names, one a line
// Prints `PASS Name` or `FAIL Name: file:line: what` per case, then `N cases, F failed`; exits 1
// when a case failed, 2 on a usage error.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"

namespace droidway {
namespace test {
namespace {

std::string* current_failure = nullptr;

}  // namespace

std::vector<Case>& Cases() {
  static std::vector<Case> cases;
  return cases;
}

void Fail(const char* file, int line, const std::string& what) {
  const char* slash = std::strrchr(file, '/');
  std::string text =
      std::string(slash != nullptr ? slash + 1 : file) + ":" + std::to_string(line) + ": " + what;
  if (current_failure != nullptr && current_failure->empty()) *current_failure = text;
}

}  // namespace test
}  // namespace droidway

int main(int argc, char** argv) {
  using droidway::test::Case;
  using droidway::test::Cases;
  if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
    for (const Case& c : Cases()) std::printf("%s\n", c.name);
    return 0;
  }
  std::vector<const Case*> selected;
  if (argc == 1) {
    for (const Case& c : Cases()) selected.push_back(&c);
  } else {
    for (int i = 1; i < argc; ++i) {
      const Case* found = nullptr;
      for (const Case& c : Cases()) {
        if (std::strcmp(c.name, argv[i]) == 0) found = &c;
      }
      if (found == nullptr) {
        std::fprintf(stderr, "no case named %s\n", argv[i]);
        return 2;
      }
      selected.push_back(found);
    }
  }
  int failed = 0;
  for (const Case* c : selected) {
    std::string failure;
    droidway::test::current_failure = &failure;
    c->run();
    droidway::test::current_failure = nullptr;
    if (failure.empty()) {
      std::printf("PASS %s\n", c->name);
    } else {
      std::printf("FAIL %s: %s\n", c->name, failure.c_str());
      ++failed;
    }
    std::fflush(stdout);
  }
  std::printf("%zu cases, %d failed\n", selected.size(), failed);
  return failed == 0 ? 0 : 1;
}
