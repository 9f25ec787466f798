// hello-world: the operator-facing CNPG-I hello world, as a Deployment
// behind a Service:
//
//   hello-world plugin --server-address=:9090 --server-cert=/server/tls.crt
//                      --server-key=/server/tls.key --client-cert=/client/tls.crt
//
// The flags are those of the Go plugins (see --help); without
// --server-address it listens on the Unix socket
// /plugins/cnpg-i-hello-world.cloudnative-pg.io instead.
#include <string_view>
#include <vector>

#include "hello_world.h"

int main(int argc, char** argv) {
  // Manifests written for Go plugins start the arguments with the name of a
  // subcommand, `plugin`. This program has only that one: accept the word
  // and drop it, as the Go binary's command dispatcher would.
  std::vector<char*> args(argv, argv + argc);
  if (args.size() > 1 && std::string_view(args[1]) == "plugin") args.erase(args.begin() + 1);
  return hello_world::MakeServer().Run(static_cast<int>(args.size()), args.data());
}
