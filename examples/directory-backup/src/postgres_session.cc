#include "postgres_session.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cstdlib>
#include <utility>

#include "file_io.h"

namespace directory_backup {
namespace {

// libpq messages end with a newline.
std::string Trimmed(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

struct PostgresSession::Connection {
  PGconn* conn = nullptr;
  ~Connection() {
    if (conn != nullptr) PQfinish(conn);
  }
};

PostgresSession::PostgresSession(std::unique_ptr<Connection> connection, std::string target,
                                 std::function<bool()> cancelled)
    : connection_(std::move(connection)),
      target_(std::move(target)),
      cancelled_(std::move(cancelled)) {}

PostgresSession::PostgresSession(PostgresSession&&) noexcept = default;
PostgresSession& PostgresSession::operator=(PostgresSession&&) noexcept = default;
PostgresSession::~PostgresSession() = default;

absl::StatusOr<PostgresSession> PostgresSession::Connect(std::function<bool()> cancelled) {
  // Only what the environment leaves unset: libpq reads the rest itself.
  std::vector<const char*> keys;
  std::vector<const char*> values;
  auto default_to = [&](const char* env, const char* key, const char* value) {
    const char* set = std::getenv(env);
    if (set == nullptr || *set == '\0') {
      keys.push_back(key);
      values.push_back(value);
    }
  };
  default_to("PGHOST", "host", "/controller/run");
  default_to("PGUSER", "user", "postgres");
  default_to("PGDATABASE", "dbname", "postgres");
  default_to("PGCONNECT_TIMEOUT", "connect_timeout", "10");
  default_to("PGAPPNAME", "application_name", "directory-backup");
  keys.push_back(nullptr);
  values.push_back(nullptr);

  auto connection = std::make_unique<Connection>();
  connection->conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/0);
  if (connection->conn == nullptr) return absl::ResourceExhaustedError("libpq: out of memory");
  auto describe = [&](PGconn* conn) {
    return Cat(
        {"host=", PQhost(conn) ? PQhost(conn) : "?", " port=", PQport(conn) ? PQport(conn) : "?",
         " user=", PQuser(conn) ? PQuser(conn) : "?", " dbname=", PQdb(conn) ? PQdb(conn) : "?"});
  };
  const std::string target = describe(connection->conn);
  if (PQstatus(connection->conn) != CONNECTION_OK) {
    return absl::UnavailableError(
        Cat({"cannot connect to PostgreSQL (", target,
             "): ", Trimmed(PQerrorMessage(connection->conn)), " (is the instance running?)"}));
  }
  return PostgresSession(std::move(connection), target, std::move(cancelled));
}

absl::StatusOr<std::vector<PostgresSession::Row>> PostgresSession::Query(
    std::string_view sql, const std::vector<std::string>& params) {
  PGconn* conn = connection_->conn;
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  const std::string statement(sql);
  if (PQsendQueryParams(conn, statement.c_str(), static_cast<int>(values.size()), nullptr,
                        values.data(), nullptr, nullptr, 0) != 1) {
    return absl::UnavailableError(
        Cat({"PostgreSQL (", target_, "): ", Trimmed(PQerrorMessage(conn))}));
  }
  // Wait for the answer, watching for cancellation.
  bool cancel_sent = false;
  for (;;) {
    if (PQconsumeInput(conn) != 1) {
      return absl::UnavailableError(
          Cat({"PostgreSQL (", target_, "): ", Trimmed(PQerrorMessage(conn))}));
    }
    if (!PQisBusy(conn)) break;
    if (!cancel_sent && cancelled_ && cancelled_()) {
      if (PGcancel* cancel = PQgetCancel(conn)) {
        char error[256];
        PQcancel(cancel, error, sizeof error);
        PQfreeCancel(cancel);
      }
      cancel_sent = true;
    }
    pollfd pfd{.fd = PQsocket(conn), .events = POLLIN, .revents = 0};
    ::poll(&pfd, 1, 200);
  }
  std::vector<Row> rows;
  absl::Status status;
  while (PGresult* result = PQgetResult(conn)) {
    const ExecStatusType state = PQresultStatus(result);
    if (state == PGRES_TUPLES_OK) {
      const int n = PQntuples(result), columns = PQnfields(result);
      for (int r = 0; r < n; ++r) {
        Row row;
        row.reserve(columns);
        for (int c = 0; c < columns; ++c) {
          if (PQgetisnull(result, r, c)) {
            row.emplace_back(std::nullopt);
          } else {
            row.emplace_back(std::string(PQgetvalue(result, r, c),
                                         static_cast<std::size_t>(PQgetlength(result, r, c))));
          }
        }
        rows.push_back(std::move(row));
      }
    } else if (state != PGRES_COMMAND_OK && status.ok()) {
      const std::string message = Trimmed(PQresultErrorMessage(result));
      status = cancel_sent ? absl::CancelledError(Cat({"cancelled: ", message}))
                           : absl::FailedPreconditionError(Cat(
                                 {"PostgreSQL (", target_, ") refused \"", sql, "\": ", message}));
    }
    PQclear(result);
  }
  if (!status.ok()) return status;
  if (cancel_sent)
    return absl::CancelledError("cancelled: the caller gave up or the plugin is stopping");
  return rows;
}

absl::StatusOr<PostgresSession::Row> PostgresSession::QueryRow(
    std::string_view sql, const std::vector<std::string>& params) {
  absl::StatusOr<std::vector<Row>> rows = Query(sql, params);
  if (!rows.ok()) return rows.status();
  if (rows->size() != 1) {
    return absl::InternalError(
        Cat({"\"", sql, "\" returned ", std::to_string(rows->size()), " rows, expected one"}));
  }
  return std::move(rows->front());
}

}  // namespace directory_backup
