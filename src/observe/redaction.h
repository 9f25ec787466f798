// Not part of the API. Keeps secrets out of recorded calls: what the
// operator sends carries them (Secret data, credentials in environment
// variables, certificates and keys, connection strings), and a recording is
// meant to be copied into a plugin's test data.
#ifndef CNPGI_SRC_OBSERVE_REDACTION_H_
#define CNPGI_SRC_OBSERVE_REDACTION_H_

#include <set>
#include <string>
#include <string_view>

#include "observe/call_json.h"

namespace cnpgi::internal {

// What replaces a secret value.
inline constexpr std::string_view kRedacted = "[redacted]";

struct RedactionRules {
  // Plugin parameters (spec.plugins[].parameters, the parameters of a
  // request) whose values are secret whatever their name.
  std::set<std::string, std::less<>> secret_parameters;
};

// True for names of things that hold a secret: the last word of the name
// (split at '_', '-', '.' and lower-to-upper case changes) is, or ends in,
// password, passwd, secret, token, credential(s), passphrase or apikey, or
// is key. "AWS_SECRET_ACCESS_KEY", "PGPASSWORD", "githubToken" are;
// "secretName", "ssl_key_file", "password_encryption" are not.
bool LooksSecretName(std::string_view name);

// `text` with its secrets replaced: the body of every PEM block, the
// password of URLs (scheme://user:PASSWORD@host) and of key=value
// connection strings (password=..., also sslpassword, passwd, pwd).
// Returns true when something was replaced.
bool RedactText(std::string& text);

// Redacts, in place, a JSON tree of expanded calls (see call_json.h):
//  - the values of data and stringData of Kubernetes Secrets;
//  - the value of {name, value} pairs (environment variables) whose name
//    LooksSecretName;
//  - string members named for a secret value (password, token,
//    credentials, secretKey, ...), not those naming a Secret or a key in
//    one (serverTLSSecret, topologyKey, key);
//  - in "parameters" objects, string values of declared secret parameters;
//  - in every string, what RedactText() replaces.
// Returns the number of values replaced.
int Redact(OrderedJson& json, const RedactionRules& rules);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_OBSERVE_REDACTION_H_
