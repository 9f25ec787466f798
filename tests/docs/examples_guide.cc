// The C++ examples of docs/examples.md and docs/writing-a-backup-plugin.md,
// compiled with the context the text around them assumes (see
// extract_snippets.py): the backup guide's excerpt against the
// directory-backup example's own declarations.
#include <cnpgi/cnpgi.h>

#include <memory>
#include <optional>
#include <vector>

#include "instance_services.h"
#include "operator_services.h"
#include "plugin.h"
#include "recovery_service.h"

namespace examples_hello_classes {
#include "examples-hello-classes.inc"
}  // namespace examples_hello_classes

namespace examples_backup_classes {
#include "examples-backup-classes.inc"
}  // namespace examples_backup_classes

namespace directory_backup::backup_roles {
#include "backup-roles.inc"
}  // namespace directory_backup::backup_roles
