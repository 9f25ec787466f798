// PostgresSession: one libpq connection to the local PostgreSQL, for the
// backup protocol (pg_backup_start and pg_backup_stop must run in the same
// session).
//
// Where to connect comes from libpq's environment (PGHOST, PGPORT, PGUSER,
// PGDATABASE, ...: the sidecar copies the postgres container's environment);
// what is not set there defaults to the instance Pod's layout:
// host=/controller/run (PostgreSQL's socket directory in CloudNativePG),
// user=postgres, dbname=postgres.
//
// Queries run asynchronously so that a cancelled call (the operator gave up,
// the plugin is stopping) cancels the statement on the server instead of
// waiting for a checkpoint or for WAL archiving to finish.
#ifndef DIRECTORY_BACKUP_POSTGRES_SESSION_H_
#define DIRECTORY_BACKUP_POSTGRES_SESSION_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace directory_backup {

class PostgresSession {
 public:
  using Row = std::vector<std::optional<std::string>>;

  // Unavailable, with libpq's reason and where it tried, when PostgreSQL
  // cannot be reached (not running, wrong socket directory).
  static absl::StatusOr<PostgresSession> Connect(std::function<bool()> cancelled = {});

  PostgresSession(PostgresSession&&) noexcept;
  PostgresSession& operator=(PostgresSession&&) noexcept;
  ~PostgresSession();

  // Runs one statement with text parameters ($1, $2, ...) and returns its
  // rows as text (nullopt for NULL). Errors carry PostgreSQL's message;
  // Cancelled when the cancellation callback said so.
  absl::StatusOr<std::vector<Row>> Query(std::string_view sql,
                                         const std::vector<std::string>& params = {});
  // Query that must return exactly one row.
  absl::StatusOr<Row> QueryRow(std::string_view sql, const std::vector<std::string>& params = {});

  // "host=/controller/run user=postgres dbname=postgres", for messages.
  const std::string& target() const { return target_; }

 private:
  struct Connection;
  PostgresSession(std::unique_ptr<Connection> connection, std::string target,
                  std::function<bool()> cancelled);

  std::unique_ptr<Connection> connection_;
  std::string target_;
  std::function<bool()> cancelled_;
};

}  // namespace directory_backup

#endif  // DIRECTORY_BACKUP_POSTGRES_SESSION_H_
