// What `kit grade` found for each submission, and the files it writes from it:
//   <out>/<submission>/results.json   Gradescope's format (score, max_score, execution_time, output, tests)
//   <out>/<submission>/junit.xml      JUnit XML, one <testsuite> per lesson (CI dashboards, GitHub Classroom)
//   <out>/<submission>/report.md      for the student: score per lesson, each failed test with its output
//   <out>/gradebook.csv               one row per submission, one column per lesson
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace clusterkit::kit {

struct CaseGrade {
    std::string name{};     // the Catch2 test case: a sentence of the lesson's contract
    std::string section{};  // the lesson text's heading that teaches it
    int points = 0;       // earned
    int max_points = 0;   // its weight in the rubric
    bool passed = false;
    std::string output{};   // why it failed, as `kit verify` says it (verdict.hpp), and where to read; empty if passed
    double seconds = 0;
};

enum class BuildState { built, compile_error, missing };

struct LessonGrade {
    std::string slug{};
    std::string title{};
    BuildState build = BuildState::missing;
    std::string build_message{};  // the compiler's first error, or why the lesson is missing
    std::vector<CaseGrade> cases{};

    int score() const;
    int max_score() const;
};

struct SubmissionGrade {
    std::string name{};               // folder name under <out>
    std::filesystem::path source{};   // what was graded
    std::vector<LessonGrade> lessons{};
    std::vector<std::string> sandbox{};  // the sandbox's layers in force, and what was missing
    double seconds = 0;
    double build_seconds = 0;  // of `seconds`: CMake configure and the lessons' build (not the wait for the build slot)
    double test_seconds = 0;   // of `seconds`: the sandboxed test runs
    double waited_seconds = 0; // not in `seconds`: the wait for the build slot, busy with earlier submissions

    int score() const;
    int max_score() const;
};

// Gradescope's values for who sees results.json, and when. write_results_json takes the one in
// CLUSTERKIT_RESULTS_VISIBILITY (set by the zip of `kit gradescope --visibility`), else "visible".
inline constexpr std::array<std::string_view, 4> gradescope_visibilities = {"visible", "after_due_date",
                                                                           "after_published", "hidden"};
std::string gradescope_visibility_list();  // "visible, after_due_date, after_published or hidden"

void write_results_json(const SubmissionGrade& grade, const std::filesystem::path& file);
void write_junit_xml(const SubmissionGrade& grade, const std::filesystem::path& file);
void write_markdown_report(const SubmissionGrade& grade, const std::filesystem::path& file);
void write_gradebook(const std::vector<SubmissionGrade>& grades, const std::filesystem::path& file);

}  // namespace clusterkit::kit
