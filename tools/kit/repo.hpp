// Where things are in a ClusterKit checkout, for every kit command: the root, the lessons (from
// lessons/lessons.json, the one list of them), a lesson from "NN", its rubric, and headings of its text.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clusterkit::kit {

namespace fs = std::filesystem;

// The checkout's root folder: $CLUSTERKIT_ROOT (./kit sets it), else the source folder the tool was built from.
fs::path kit_root();

// The student's tree: $CLUSTERKIT_TREE (a copy of starter/ kept elsewhere), else <root>/starter.
fs::path student_tree();
// True when the student works on a copy set by CLUSTERKIT_TREE rather than <root>/starter.
bool student_tree_is_a_copy();

struct Lesson {
    std::string slug;    // "01-fork-per-cpu"
    std::string number;  // "01"
    std::string title;
    std::string node;    // the Node.js API it mirrors
    std::string provides{};  // "supervisor": its NAME.cpp implements lib/include/clusterkit/NAME.hpp; "" for none

    fs::path text(const fs::path& root) const { return root / "lessons" / slug / "README.md"; }
    fs::path hints(const fs::path& root) const { return root / "lessons" / slug / "hints.md"; }
};

// Every lesson, in order. Throws std::runtime_error naming the file for a missing or malformed list.
std::vector<Lesson> read_lessons(const fs::path& root);

// The lesson that `which` names: "1", "01" or "01-fork-per-cpu". Throws UsageError ("there is no lesson 9;
// the lessons are 01..05") otherwise.
const Lesson& find_lesson(const std::vector<Lesson>& lessons, std::string_view which);

// tests/NN-name/rubric.json (see docs/instructor.md): points and the lesson text's section per test case.
struct RubricEntry {
    std::string name;     // exact Catch2 test case name
    int points = 0;
    std::string section;  // exact heading text in lessons/NN-name/README.md
};
struct Rubric {
    std::string about;
    std::vector<RubricEntry> tests;

    const RubricEntry* find(std::string_view test_name) const;
};
fs::path rubric_path(const fs::path& root, const Lesson& lesson);
// std::nullopt when the lesson has no rubric.json; throws std::runtime_error naming the file when malformed.
std::optional<Rubric> read_rubric(const fs::path& root, const Lesson& lesson);

// GitHub's anchor for a Markdown heading: "Reaping, and EINTR" -> "reaping-and-eintr".
std::string github_anchor(std::string_view heading);

// The 1-based line of the Markdown heading whose text is `heading` (any level), or std::nullopt.
std::optional<int> heading_line(const fs::path& markdown, std::string_view heading);

// Reads a whole file; throws std::runtime_error naming it when it cannot.
std::string read_file(const fs::path& file);

// The lines of a text, without their '\n'; nonempty_lines() leaves out the empty and blank ones.
std::vector<std::string> lines_of(const std::string& text);
std::vector<std::string> nonempty_lines(const std::string& text);

}  // namespace clusterkit::kit
