// SPDX-License-Identifier: Apache-2.0
#include <string>
#include <vector>

#include "agent/app.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return mxpulse::runCommandLine(args);
}
