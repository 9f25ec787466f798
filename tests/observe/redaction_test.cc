// The redaction rules, value by value (tests/observe/recording_test.cc
// checks them end to end on realistic objects).
#include "observe/redaction.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cnpgi::internal {
namespace {

std::string Redacted(std::string text) {
  RedactText(text);
  return text;
}

TEST(Redaction, SecretNames) {
  for (const char* name : {"AWS_SECRET_ACCESS_KEY", "PGPASSWORD", "githubToken", "api-key",
                           "DB_CREDENTIALS", "clientSecret", "passphrase", "API_KEY"}) {
    EXPECT_TRUE(LooksSecretName(name)) << name;
  }
  for (const char* name : {"secretName", "ssl_key_file", "password_encryption", "PGHOST", "keyFile",
                           "tokenPath", "name", "monkeys"}) {
    EXPECT_FALSE(LooksSecretName(name)) << name;
  }
}

TEST(Redaction, Text) {
  EXPECT_EQ(Redacted("postgres://app:pw@h:5432/db?sslmode=require"),
            "postgres://app:[redacted]@h:5432/db?sslmode=require");
  EXPECT_EQ(Redacted("s3://bucket/path user@host"), "s3://bucket/path user@host");
  EXPECT_EQ(Redacted("host=h user=u password='a b' dbname=d"),
            "host=h user=u password=[redacted] dbname=d");
  EXPECT_EQ(Redacted("jdbc:x?user=u&password=p&ssl=1"), "jdbc:x?user=u&password=[redacted]&ssl=1");
  EXPECT_EQ(Redacted("a\n-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\nb"),
            "a\n-----BEGIN CERTIFICATE-----[redacted]-----END CERTIFICATE-----\nb");
  EXPECT_EQ(Redacted("-----BEGIN RSA PRIVATE KEY-----\nAAA"),
            "-----BEGIN RSA PRIVATE KEY-----[redacted]");
  EXPECT_EQ(Redacted("password_encryption=scram-sha-256"), "password_encryption=scram-sha-256");
  EXPECT_EQ(Redacted("plain text"), "plain text");
}

TEST(Redaction, Objects) {
  OrderedJson secret = OrderedJson::parse(R"({"apiVersion":"v1","kind":"Secret",
    "metadata":{"name":"creds"},"data":{"password":"aHVudGVyMg=="},"stringData":{"user":"u"}})");
  EXPECT_EQ(Redact(secret, {}), 2);
  EXPECT_EQ(secret["data"]["password"], "[redacted]");
  EXPECT_EQ(secret["stringData"]["user"], "[redacted]");
  EXPECT_EQ(secret["metadata"]["name"], "creds");

  OrderedJson members = OrderedJson::parse(
      R"({"topologyKey":"zone","serverTLSSecret":"pg-tls","password":"x","secretKey":"y"})");
  EXPECT_EQ(Redact(members, {}), 2);
  EXPECT_EQ(members["topologyKey"], "zone");
  EXPECT_EQ(members["serverTLSSecret"], "pg-tls");

  OrderedJson env = OrderedJson::parse(R"([{"name":"PGPASSWORD","value":"x"},
    {"name":"PGHOST","value":"h"},{"name":"P","valueFrom":{"secretKeyRef":{"name":"s","key":"password"}}}])");
  EXPECT_EQ(Redact(env, {}), 1);
  EXPECT_EQ(env[0]["value"], "[redacted]");
  EXPECT_EQ(env[1]["value"], "h");
  EXPECT_EQ(env[2]["valueFrom"]["secretKeyRef"]["key"], "password");

  RedactionRules rules;
  rules.secret_parameters.insert("endpointSecretPart");
  OrderedJson parameters =
      OrderedJson::parse(R"({"parameters":{"endpointSecretPart":"x","bucket":"b"}})");
  EXPECT_EQ(Redact(parameters, rules), 1);
  EXPECT_EQ(parameters["parameters"]["bucket"], "b");
}

}  // namespace
}  // namespace cnpgi::internal
