// The C++ example of docs/conformance.md, compiled with the context the text
// around it assumes (see extract_snippets.py).
#include <cnpgi/testing/conformance.h>

#include <fstream>
#include <iostream>

namespace conformance_library {
[[maybe_unused]] absl::Status Snippet() {
#include "conformance-library.inc"
  return absl::OkStatus();
}
}  // namespace conformance_library
