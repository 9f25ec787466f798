#include "cnpgi/version.h"

namespace cnpgi {

std::string_view LinkedSdkVersion() { return kSdkVersion; }

}  // namespace cnpgi
