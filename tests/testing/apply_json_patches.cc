// Applies every patch of a corpus with cnpgi::test::ApplyJsonPatch and
// prints what happened, for tests/go's oracle to compare with
// evanphx/json-patch, the operator's library:
//
//   apply_json_patches CORPUS.json
//   corpus: [{"name": "...", "doc": {...}, "patch": "<the bytes a plugin answers>"}, ...]
//   output: [{"name": "...", "ok": true, "result": {...}} | {"name": "...", "ok": false,
//             "error": "..."}, ...]
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "cnpgi/json.h"
#include "cnpgi/testing/json_patch.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: apply_json_patches CORPUS.json\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  absl::StatusOr<nlohmann::json> corpus = cnpgi::ParseJson(text.str());
  if (!in || !corpus.ok() || !corpus->is_array()) {
    std::cerr << "apply_json_patches: " << argv[1] << " is not a JSON array of cases\n";
    return 2;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const nlohmann::json& c : *corpus) {
    nlohmann::json result = {{"name", c.value("name", "")}};
    absl::StatusOr<nlohmann::json> applied =
        cnpgi::test::ApplyJsonPatch(c.value("doc", nlohmann::json()), c.value("patch", ""));
    result["ok"] = applied.ok();
    if (applied.ok()) {
      result["result"] = *applied;
    } else {
      result["error"] = std::string(applied.status().message());
    }
    out.push_back(std::move(result));
  }
  std::cout << out.dump(1) << "\n";
  return 0;
}
