// Everything a plugin author needs, in one include:
//
//   #include <cnpgi/cnpgi.h>
//
// Smaller headers can be included one by one; each is self-contained.
#ifndef CNPGI_CNPGI_H_
#define CNPGI_CNPGI_H_

// Serving.
#include "cnpgi/call_context.h"
#include "cnpgi/logging.h"
#include "cnpgi/metadata.h"
#include "cnpgi/plugin_server.h"
#include "cnpgi/server_options.h"
#include "cnpgi/version.h"

// One base class per CNPG-I service.
#include "cnpgi/backup_service.h"
#include "cnpgi/identity_service.h"
#include "cnpgi/lifecycle_service.h"
#include "cnpgi/metrics_service.h"
#include "cnpgi/operator_service.h"
#include "cnpgi/postgres_service.h"
#include "cnpgi/reconciler_hooks_service.h"
#include "cnpgi/restore_job_service.h"
#include "cnpgi/wal_service.h"

// Helpers for the objects and answers of every day.
#include "cnpgi/backup.h"
#include "cnpgi/cluster.h"
#include "cnpgi/cluster_status.h"
#include "cnpgi/errors.h"
#include "cnpgi/json.h"
#include "cnpgi/metrics.h"
#include "cnpgi/object.h"
#include "cnpgi/parameters.h"
#include "cnpgi/plugin_configuration.h"
#include "cnpgi/pod.h"
#include "cnpgi/postgres_configuration.h"
#include "cnpgi/sidecar.h"
#include "cnpgi/validation.h"
#include "cnpgi/wal.h"

#endif  // CNPGI_CNPGI_H_
