// The hint ladders (tools/kit/hints.hpp): how a hints file is read, how a TODO is named, and that every
// lesson's hints.md is a ladder per TODO of that lesson's starter code.
#include "catch.hpp"

#include "hints.hpp"
#include "repo.hpp"

#include <clusterkit/errors.hpp>

#include <string>

using namespace clusterkit::kit;

namespace {

const char* const sample = R"(# Lesson 99 hints

Text before the first TODO is not a hint.

## `usable_cpu_count()`

### Hint 1

Nudge.

### Hint 2

```
# a comment in a code block, not a heading
## nor this
```

## Supervisor::watch(), in supervisor.cpp

All of it is one rung.

## copies.cpp: the worker's loop

### Hint 1

Only one.
)";

// The repository this test was built from: tests/kit/../..
const fs::path root = fs::path(KIT_TEST_DATA).parent_path().parent_path();

}  // namespace

TEST_CASE("a hints file is one ladder per ## section, one rung per ### heading, code blocks untouched", "[kit][hint]") {
    const auto ladders = parse_hints(sample);
    REQUIRE(ladders.size() == 3);
    CHECK(ladders[0].key == "usable_cpu_count");
    CHECK(ladders[0].rungs.size() == 2);
    CHECK(ladders[0].rungs[0] == "Nudge.\n");
    CHECK(ladders[0].rungs[1].find("## nor this") != std::string::npos);
    CHECK(ladders[1].key == "Supervisor::watch");
    CHECK(ladders[1].rungs.size() == 1);
    CHECK(ladders[2].key == "copies");
}

TEST_CASE("an old flat hints file still gives every hint, one ladder of one rung per section", "[kit][hint]") {
    const auto ladders = parse_hints("# Hints\n\n## Hint 1\n\nOne.\n\n## Hint 2\n\nTwo.\n");
    REQUIRE(ladders.size() == 2);
    CHECK(ladders[0].key == "Hint");
    CHECK(ladders[1].key == "Hint#2");
    CHECK(find_ladder(ladders, "hint#2").rungs.front() == "Two.\n");
}

TEST_CASE("a TODO is found by its key, the name after ::, or a part of one heading", "[kit][hint]") {
    const auto ladders = parse_hints(sample);
    CHECK(find_ladder(ladders, "USABLE_CPU_COUNT").key == "usable_cpu_count");
    CHECK(find_ladder(ladders, "watch").key == "Supervisor::watch");
    CHECK(find_ladder(ladders, "worker's loop").key == "copies");
    CHECK_THROWS_AS(find_ladder(ladders, "nothing like it"), clusterkit::UsageError);
    CHECK_THROWS_AS(find_ladder(ladders, "s"), clusterkit::UsageError);  // several headings
}

TEST_CASE("every lesson's hints are ladders of at least two rungs, each named after code in its starter", "[kit][hint]") {
    for (const auto& lesson : read_lessons(root)) {
        INFO(lesson.hints(root).string());
        const auto ladders = parse_hints(read_file(lesson.hints(root)));
        REQUIRE(!ladders.empty());
        std::string starter;
        for (const auto& entry : fs::directory_iterator(root / "starter" / lesson.slug))
            starter += entry.path().filename().string() + "\n" + read_file(entry.path());
        for (const auto& ladder : ladders) {
            INFO(ladder.heading);
            CHECK(ladder.rungs.size() >= 2);
            CHECK(ladder.key.find('#') == std::string::npos);  // one section per TODO, each named once
            const auto name = ladder.key.substr(ladder.key.rfind(':') == std::string::npos ? 0 : ladder.key.rfind(':') + 1);
            CHECK(starter.find(name) != std::string::npos);
        }
    }
}
