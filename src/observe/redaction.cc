#include "observe/redaction.h"

#include <array>
#include <cctype>
#include <vector>

#include "absl/strings/ascii.h"

namespace cnpgi::internal {
namespace {

// The words of an identifier, lowercase: split at '_', '-', '.', '/' and
// lower-to-upper case changes ("clientCASecret": client, casecret).
std::vector<std::string> Words(std::string_view name) {
  std::vector<std::string> words(1);
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '_' || c == '-' || c == '.' || c == '/') {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (i > 0 && std::isupper(static_cast<unsigned char>(c)) &&
        std::islower(static_cast<unsigned char>(name[i - 1])) && !words.back().empty()) {
      words.emplace_back();
    }
    words.back().push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  if (words.size() > 1 && words.back().empty()) words.pop_back();
  return words;
}

bool EndsInSecretWord(std::string_view word, bool with_secret) {
  for (std::string_view suffix :
       {"password", "passwd", "token", "credential", "credentials", "passphrase", "apikey"}) {
    if (word.ends_with(suffix)) return true;
  }
  return with_secret && word.ends_with("secret");
}

// Names of members of Kubernetes objects: there "...Secret" and "...Key"
// name a Secret or a key in one (serverTLSSecret, topologyKey), so only
// names of the value itself count (password, token, secretKey, ...).
bool LooksSecretMemberName(std::string_view name) {
  const std::vector<std::string> words = Words(name);
  const std::string& last = words.back();
  if (EndsInSecretWord(last, /*with_secret=*/false)) return true;
  if (last == "key" && words.size() > 1) {
    const std::string& before = words[words.size() - 2];
    return before == "secret" || before == "private" || before == "api" || before == "access";
  }
  return false;
}

bool IsUrlUserinfoEnd(char c) {
  return c == '/' || c == '?' || c == '#' || std::isspace(static_cast<unsigned char>(c));
}

bool RedactPem(std::string& text) {
  bool changed = false;
  std::size_t from = 0;
  while (true) {
    const std::size_t begin = text.find("-----BEGIN ", from);
    if (begin == std::string::npos) break;
    const std::size_t header_end = text.find("-----", begin + 11);
    if (header_end == std::string::npos) break;
    const std::size_t body = header_end + 5;
    const std::size_t end = text.find("-----END ", body);
    if (end == std::string::npos) {
      // A block cut short: everything after its header goes.
      text.replace(body, std::string::npos, kRedacted);
      return true;
    }
    text.replace(body, end - body, kRedacted);
    changed = true;
    from = body + kRedacted.size() + 9;
  }
  return changed;
}

bool RedactUrlPasswords(std::string& text) {
  bool changed = false;
  std::size_t from = 0;
  while (true) {
    const std::size_t scheme = text.find("://", from);
    if (scheme == std::string::npos) break;
    const std::size_t authority = scheme + 3;
    std::size_t end = authority;
    while (end < text.size() && !IsUrlUserinfoEnd(text[end])) ++end;
    const std::size_t at = text.rfind('@', end == 0 ? 0 : end - 1);
    from = end;
    if (at == std::string::npos || at < authority) continue;
    const std::size_t colon = text.find(':', authority);
    if (colon == std::string::npos || colon > at) continue;
    if (std::string_view(text).substr(colon + 1, at - colon - 1) == kRedacted) continue;
    text.replace(colon + 1, at - colon - 1, kRedacted);
    changed = true;
    from = colon + 1 + kRedacted.size();
  }
  return changed;
}

// password=value in libpq key/value strings, URL queries, JDBC/ODBC strings.
bool RedactKeyValuePasswords(std::string& text) {
  static constexpr std::array<std::string_view, 4> kKeys = {"password", "passwd", "pwd",
                                                            "sslpassword"};
  bool changed = false;
  std::string lower = absl::AsciiStrToLower(text);
  std::size_t pos = 0;
  while ((pos = lower.find('=', pos)) != std::string::npos) {
    std::size_t key_start = pos;
    while (key_start > 0 && std::isalpha(static_cast<unsigned char>(lower[key_start - 1]))) {
      --key_start;
    }
    const std::string_view key = std::string_view(lower).substr(key_start, pos - key_start);
    const bool delimited = key_start == 0 || lower[key_start - 1] == ' ' ||
                           lower[key_start - 1] == '?' || lower[key_start - 1] == '&' ||
                           lower[key_start - 1] == ';' || lower[key_start - 1] == '\t' ||
                           lower[key_start - 1] == '\n';
    bool secret = false;
    for (std::string_view k : kKeys) secret = secret || key == k;
    std::size_t value = pos + 1;
    while (value < lower.size() && lower[value] == ' ') ++value;
    if (!secret || !delimited || value >= text.size()) {
      pos = value;
      continue;
    }
    std::size_t end = value;
    if (text[value] == '\'' || text[value] == '"') {
      const char quote = text[value];
      end = value + 1;
      while (end < text.size() && text[end] != quote) end += text[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, text.size());
    } else {
      while (end < text.size() && text[end] != ' ' && text[end] != '&' && text[end] != ';' &&
             text[end] != '\n' && text[end] != '\t') {
        ++end;
      }
    }
    if (std::string_view(text).substr(value, end - value) != kRedacted) {
      text.replace(value, end - value, kRedacted);
      lower.replace(value, end - value, kRedacted);
      changed = true;
    }
    pos = value + kRedacted.size();
  }
  return changed;
}

int RedactString(OrderedJson& value) {
  std::string& text = value.get_ref<std::string&>();
  // Cheap tests first: most strings hold none of these.
  const bool maybe = text.find("-----BEGIN ") != std::string::npos ||
                     text.find('@') != std::string::npos || text.find('=') != std::string::npos;
  return maybe && RedactText(text) ? 1 : 0;
}

int SetRedacted(OrderedJson& value) {
  if (value.is_string() && value.get_ref<const std::string&>() == kRedacted) return 0;
  value = std::string(kRedacted);
  return 1;
}

bool IsSecretObject(const OrderedJson& object) {
  const auto kind = object.find("kind");
  return kind != object.end() && kind->is_string() && *kind == "Secret";
}

int RedactNode(OrderedJson& json, const RedactionRules& rules) {
  int count = 0;
  if (json.is_string()) return RedactString(json);
  if (json.is_array()) {
    for (auto& item : json) count += RedactNode(item, rules);
    return count;
  }
  if (!json.is_object()) return 0;
  if (IsSecretObject(json)) {
    for (const char* field : {"data", "stringData"}) {
      auto it = json.find(field);
      if (it == json.end() || !it->is_object()) continue;
      for (auto& [key, item] : it->items()) {
        (void)key;
        count += SetRedacted(item);
      }
    }
  }
  // An environment variable (or anything shaped like one).
  if (const auto name = json.find("name"), value = json.find("value");
      name != json.end() && value != json.end() && name->is_string() && value->is_string() &&
      LooksSecretName(name->get_ref<const std::string&>())) {
    count += SetRedacted(*value);
  }
  for (auto& [key, item] : json.items()) {
    if (item.is_string()) {
      if (LooksSecretMemberName(key)) {
        count += SetRedacted(item);
        continue;
      }
    }
    if (key == "parameters" && item.is_object() && !rules.secret_parameters.empty()) {
      for (auto& [parameter, value] : item.items()) {
        if (value.is_string() && rules.secret_parameters.contains(parameter)) {
          count += SetRedacted(value);
        }
      }
    }
    count += RedactNode(item, rules);
  }
  return count;
}

}  // namespace

bool LooksSecretName(std::string_view name) {
  const std::string word = Words(name).back();
  return word == "key" || EndsInSecretWord(word, /*with_secret=*/true);
}

bool RedactText(std::string& text) {
  bool changed = RedactPem(text);
  changed = RedactUrlPasswords(text) || changed;
  changed = RedactKeyValuePasswords(text) || changed;
  return changed;
}

int Redact(OrderedJson& json, const RedactionRules& rules) { return RedactNode(json, rules); }

}  // namespace cnpgi::internal
