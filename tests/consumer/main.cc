// Uses the installed SDK the way a plugin does: its headers, the generated
// protocol types and the linked library. Exit 0 means the package works.
#include <cnpgi/version.h>

#include <cnpgi/identity/v1/identity.grpc.pb.h>
#include <cnpgi/operator/v1/operator.pb.h>

#include <iostream>

int main() {
  cnpgi::identity::v1::GetPluginMetadataResponse metadata;
  metadata.set_name("consumer.example.com");
  metadata.set_version(std::string(cnpgi::LinkedSdkVersion()));

  cnpgi::operator_::v1::OperatorCapabilitiesResult capabilities;
  capabilities.add_capabilities()->mutable_rpc()->set_type(
      cnpgi::operator_::v1::OperatorCapability::RPC::TYPE_SET_STATUS_IN_CLUSTER);

  const bool ok = metadata.version() == cnpgi::kSdkVersion &&
                  capabilities.capabilities(0).has_rpc() &&
                  cnpgi::identity::v1::Identity::service_full_name() ==
                      std::string("cnpgi.identity.v1.Identity");
  std::cout << "cnpgi " << cnpgi::LinkedSdkVersion() << " consumer: " << (ok ? "ok" : "FAILED")
            << "\n";
  return ok ? 0 : 1;
}
