// Mutual TLS for a plugin served over TCP, matching what the CloudNativePG
// operator expects (docs/tls.md has the whole story):
//   * the server presents --server-cert/--server-key, re-read from disk when
//     they change, so a rotated Kubernetes Secret needs no restart;
//   * every client must present a certificate that verifies against
//     --client-cert (the operator's own client certificate, or a CA), re-read
//     on every handshake;
//   * TLS 1.3 only; there is no plaintext mode.
#ifndef CNPGI_SRC_TLS_MUTUAL_TLS_H_
#define CNPGI_SRC_TLS_MUTUAL_TLS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cnpgi/logging.h"

namespace cnpgi::internal {

// Paths of the PEM files, as given by --server-cert, --server-key and
// --client-cert.
struct MutualTlsFiles {
  std::string server_cert;  // the server certificate, then any intermediates
  std::string server_key;   // its private key, unencrypted
  std::string client_cert;  // certificate(s) a client's certificate must chain to
};

// Checks the three files once, at startup, so that a mistake stops the
// plugin with a message naming the file and the problem instead of failing
// every handshake later. Every error message names the file and its flag.
//   * each file exists, is readable, is a regular file and is PEM;
//   * the server certificate file holds a certificate that is valid now
//     (neither expired nor not yet valid: the operator would refuse it, so
//     this is an error, not a warning), names at least one DNS host in its
//     subjectAltName (the operator checks the Service name against DNS names
//     only), and, if it restricts its extended key usage, allows serverAuth;
//   * the key file holds an unencrypted private key matching that
//     certificate;
//   * the client certificate file holds at least one certificate that could
//     ever accept a client: valid now, and a CA or allowing clientAuth.
// NotFound / PermissionDenied for unreadable files, FailedPrecondition for
// certificates outside their validity period, InvalidArgument otherwise.
absl::Status ValidateMutualTlsFiles(const MutualTlsFiles& files);

// Server credentials for grpc::ServerBuilder::AddListeningPort():
//   * client certificate required and verified against `files.client_cert`
//     (see client_certificate_verifier.h: partial chains, re-read on every
//     handshake, rejected clients logged through `logger`);
//   * server certificate and key re-read every `reload_interval` (rounded up
//     to whole seconds, at least one) and used for new handshakes when they
//     changed; a pair that cannot be read keeps the previous one in use;
//   * TLS 1.3 only for the whole process's gRPC (EnforceTls13Only()).
// Validates the files first (ValidateMutualTlsFiles()). InvalidArgument for
// a reload interval that is not positive and finite; FailedPrecondition when
// TLS 1.3 cannot be enforced any more (TLS was used earlier in the process).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeMutualTlsServerCredentials(
    const MutualTlsFiles& files, absl::Duration reload_interval, Logger logger = Logger());

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_TLS_MUTUAL_TLS_H_
