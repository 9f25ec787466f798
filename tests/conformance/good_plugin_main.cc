// The good conformance test plugin as a process, with the SDK's flags
// (--plugin-path, or --server-address with the TLS flags).
#include "good_plugin.h"

int main(int argc, char** argv) {
  return cnpgi::conformance_test::MakeGoodPlugin().Run(argc, argv);
}
