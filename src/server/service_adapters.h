// Not part of the API. Turns the plugin's service objects into gRPC services
// under the CNPG-I method paths.
#ifndef CNPGI_SRC_SERVER_SERVICE_ADAPTERS_H_
#define CNPGI_SRC_SERVER_SERVICE_ADAPTERS_H_

#include <deque>
#include <memory>
#include <vector>

#include "cnpgi/identity/v1/identity.pb.h"
#include "server/call_runner.h"
#include "server/capabilities.h"
#include "server/raw_callback_service.h"
#include "server/service_set.h"

namespace cnpgi::internal {

struct AdaptedServices {
  std::vector<std::unique_ptr<RawCallbackService>> grpc_services;
  // Method descriptions referenced by the handlers; deque for stable
  // addresses.
  std::deque<MethodInfo> methods;
  std::vector<std::string> service_names;  // for the health service and logs
};

// Builds Identity plus every added service. `runtime` and the result must
// outlive the gRPC server.
std::unique_ptr<AdaptedServices> AdaptServices(
    const ServiceSet& services, const Capabilities& capabilities,
    const identity::v1::GetPluginMetadataResponse& metadata, CallRuntime& runtime);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_SERVER_SERVICE_ADAPTERS_H_
