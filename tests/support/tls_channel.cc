#include "support/tls_channel.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace cnpgi::testing_support {
namespace {

grpc::ChannelArguments FreshConnectionArguments() {
  grpc::ChannelArguments args;
  // gRPC shares subchannels between channels with equal arguments; a test
  // that expects a new handshake (after a certificate rotation, say) must
  // not be handed an old connection.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return args;
}

}  // namespace

std::shared_ptr<grpc::Channel> MakeMutualTlsChannel(const std::string& address,
                                                    const MutualTlsChannelOptions& options) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = options.trusted_server_cert_pem;
  ssl.pem_private_key = options.client_key_pem;
  ssl.pem_cert_chain = options.client_cert_pem;
  grpc::ChannelArguments args = FreshConnectionArguments();
  args.SetSslTargetNameOverride(options.server_name);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

std::shared_ptr<grpc::Channel> MakeMutualTlsChannel(const std::string& address,
                                                    const Certificate& server,
                                                    const Certificate& client) {
  MutualTlsChannelOptions options;
  options.trusted_server_cert_pem = server.cert_pem;
  options.client_cert_pem = client.cert_pem;
  options.client_key_pem = client.key_pem;
  return MakeMutualTlsChannel(address, options);
}

std::shared_ptr<grpc::Channel> MakeInsecureChannel(const std::string& address) {
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   FreshConnectionArguments());
}

}  // namespace cnpgi::testing_support
