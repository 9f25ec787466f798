// Identity: who the plugin is and whether it can take calls.
#ifndef CNPGI_IDENTITY_SERVICE_H_
#define CNPGI_IDENTITY_SERVICE_H_

#include "absl/status/status.h"
#include "cnpgi/call_context.h"
#include "cnpgi/metadata.h"

namespace cnpgi {

// Every plugin serves Identity. Most plugins never subclass this: passing a
// PluginMetadata to PluginServer is enough, and the SDK answers
// GetPluginMetadata, GetPluginCapabilities (derived from the services added
// to the server) and Probe itself, without touching plugin code.
//
// Subclass it only to make Probe report a real health check. Probe is called
// by every caller each time it takes a pooled connection, so it must be
// fast; an error makes the caller drop the connection and, after a few
// retries, fail whatever it was doing. The `ready` field of the answer is
// ignored by the operator: only OK versus an error matters.
class IdentityService {
 public:
  virtual ~IdentityService() = default;

  // Read once, when the server starts.
  virtual PluginMetadata Metadata() const = 0;

  // May be called from several threads at once. Default: OK.
  virtual absl::Status Probe(CallContext& ctx);
};

}  // namespace cnpgi

#endif  // CNPGI_IDENTITY_SERVICE_H_
