#include "cnpgi/errors.h"

#include "helpers/internal.h"

namespace cnpgi {

using internal::Cat;

absl::Status InvalidParameterError(const ValidationError& error) {
  return absl::InvalidArgumentError(
      Cat("invalid parameter ", error.PathString(), "=\"", error.value, "\": ", error.message));
}

absl::Status InvalidParameterError(std::string_view name, std::string_view value,
                                   std::string_view reason) {
  return absl::InvalidArgumentError(Cat("invalid parameter ", name, "=\"", value, "\": ", reason));
}

absl::Status WrongKindError(std::string_view expected_kind, const Object& got) {
  const std::string_view kind = got.kind();
  return absl::InvalidArgumentError(
      Cat("expected a ", expected_kind, ", got ",
          kind.empty() ? std::string("an object without kind") : Cat("a ", kind),
          got.name().empty() ? "" : Cat(" named ", got.name())));
}

absl::Status WalNotFoundError(std::string_view wal_name, std::string_view where) {
  return absl::NotFoundError(
      Cat("WAL file ", wal_name, " not found", where.empty() ? "" : Cat(" in ", where)));
}

absl::Status BackendUnavailableError(std::string_view backend, std::string_view cause) {
  return absl::UnavailableError(Cat(backend, " unavailable: ", cause));
}

}  // namespace cnpgi
