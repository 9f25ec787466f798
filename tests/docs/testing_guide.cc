// The C++ examples of docs/testing.md, compiled with the context the text
// around them assumes (see extract_snippets.py): the first one defines the
// fixture the later fragments run in.
#include <cnpgi/testing/conformance.h>
#include <cnpgi/testing/gtest.h>
#include <cnpgi/testing/replay.h>

#include <memory>

#include "hello_lifecycle.h"

namespace testing_guide {

#include "testing-plugin-test.inc"

using cnpgi::LifecycleOperation;

TEST(DocSnippet, PluginKit){
#include "testing-plugin-kit.inc"
}

TEST_F(HelloTest, Raw){
#include "testing-raw.inc"
}

TEST_F(HelloTest, Validation){
#include "testing-validation.inc"
}

TEST_F(HelloTest, Conformance){
#include "testing-conformance.inc"
}

// The replay example's test is free-standing: its plugin comes from a function.
cnpgi::PluginServer MakePlugin();
#define CNPGI_TEST_DATA "tests/data"
#include "testing-replay.inc"

[[maybe_unused]] cnpgi::test::ReplayOptions ReplayOptions() {
#include "testing-replay-options.inc"
  return options;
}

}  // namespace testing_guide
