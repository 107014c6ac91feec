// The files `kit grade` writes. See report.hpp.
#include "report.hpp"

#include <boost/json.hpp>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <sstream>
#include <stdexcept>

namespace clusterkit::kit {
namespace json = boost::json;
namespace pt = boost::property_tree;

namespace {

std::ofstream open_for_writing(const std::filesystem::path& file) {
    std::ofstream out(file);
    if (!out) throw std::runtime_error("cannot write " + file.string());
    return out;
}

std::string state_word(BuildState state) {
    switch (state) {
    case BuildState::built: return "built";
    case BuildState::compile_error: return "does not compile";
    case BuildState::missing: return "missing";
    }
    return "?";
}

// A Markdown code block holding `text` verbatim: its fence is longer than any run of backticks inside.
std::string code_block(const std::string& text) {
    std::size_t longest = 0, run = 0;
    for (char c : text) {
        run = c == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    const std::string fence(std::max<std::size_t>(3, longest + 1), '`');
    return fence + "\n" + text + (text.ends_with('\n') ? "" : "\n") + fence + "\n";
}

// The output Gradescope shows for a test case, in Markdown: its failure as `kit verify` shows it (what was
// expected, what the program did, where the lesson teaches it): the first line (the verdict: "expected:
// ...", "does not compile:", "stopped at the 8 s deadline...") as text, the rest verbatim in a code block.
std::string case_output(const CaseGrade& test) {
    if (test.passed) return "passed";
    const auto end_of_first = test.output.find('\n');
    std::string text = test.output.substr(0, end_of_first) + "\n";
    if (end_of_first != std::string::npos && end_of_first + 1 < test.output.size())
        text += "\n" + code_block(test.output.substr(end_of_first + 1));
    return text;
}

// Who sees the results on Gradescope, and when (report.hpp).
std::string results_visibility() {
    const char* chosen = std::getenv("CLUSTERKIT_RESULTS_VISIBILITY");
    const std::string value = chosen && *chosen ? chosen : "visible";
    if (std::ranges::find(gradescope_visibilities, value) == gradescope_visibilities.end())
        throw std::runtime_error("CLUSTERKIT_RESULTS_VISIBILITY is '" + value + "', not one of Gradescope's: " +
                                 gradescope_visibility_list());
    return value;
}

std::string seconds_text(double seconds) {
    std::ostringstream text;
    text.precision(1);
    text << std::fixed << seconds << " s";
    return text.str();
}

}  // namespace

std::string gradescope_visibility_list() {
    std::string text;
    for (std::size_t i = 0; i < gradescope_visibilities.size(); ++i)
        text += (i == 0 ? "" : i + 1 == gradescope_visibilities.size() ? " or " : ", ") +
                std::string(gradescope_visibilities[i]);
    return text;
}

int LessonGrade::score() const {
    return std::accumulate(cases.begin(), cases.end(), 0, [](int sum, const CaseGrade& test) { return sum + test.points; });
}
int LessonGrade::max_score() const {
    return std::accumulate(cases.begin(), cases.end(), 0,
                           [](int sum, const CaseGrade& test) { return sum + test.max_points; });
}
int SubmissionGrade::score() const {
    return std::accumulate(lessons.begin(), lessons.end(), 0, [](int sum, const auto& lesson) { return sum + lesson.score(); });
}
int SubmissionGrade::max_score() const {
    return std::accumulate(lessons.begin(), lessons.end(), 0,
                           [](int sum, const auto& lesson) { return sum + lesson.max_score(); });
}

// Gradescope's results.json: https://gradescope-autograders.readthedocs.io/en/latest/specs/
// Outputs are Markdown ("output_format" for the top-level output, "test_output_format" for the tests'), so
// that the verdict, the program's output (in code blocks) and the lesson pointer render. One visibility for
// the whole submission: each test carries it too, since a test's own visibility overrides the top level's.
void write_results_json(const SubmissionGrade& grade, const std::filesystem::path& file) {
    const std::string visibility = results_visibility();
    json::array tests;
    for (const auto& lesson : grade.lessons) {
        int number = 0;
        for (const auto& test : lesson.cases) {
            tests.push_back(json::object{
                {"name", lesson.slug.substr(0, 2) + " " + test.name},
                {"number", lesson.slug.substr(0, 2) + "." + std::to_string(++number)},
                {"score", test.points},
                {"max_score", test.max_points},
                {"status", test.passed ? "passed" : "failed"},
                {"output", case_output(test)},
                {"tags", json::array{lesson.slug}},
                {"visibility", visibility},
            });
        }
    }
    std::ostringstream summary;
    summary << "**ClusterKit autograder: " << grade.score() << "/" << grade.max_score() << " points**\n\n";
    for (const auto& lesson : grade.lessons) {
        summary << "- " << lesson.slug << ": " << lesson.score() << "/" << lesson.max_score();
        if (lesson.build != BuildState::built) summary << " (" << state_word(lesson.build) << ")";
        summary << "\n";
        if (lesson.build != BuildState::built) summary << "\n" << code_block(lesson.build_message) << "\n";
    }
    summary << "\nSandbox: ";
    for (std::size_t i = 0; i < grade.sandbox.size(); ++i) summary << (i ? "; " : "") << grade.sandbox[i];
    summary << "\n";
    const json::object results{
        {"score", grade.score()},
        {"max_score", grade.max_score()},
        {"execution_time", static_cast<long>(std::ceil(grade.seconds))},
        {"output", summary.str()},
        {"output_format", "md"},
        {"test_output_format", "md"},
        {"visibility", visibility},
        {"stdout_visibility", "hidden"},
        {"tests", tests},
    };
    open_for_writing(file) << json::serialize(results) << '\n';
}

void write_junit_xml(const SubmissionGrade& grade, const std::filesystem::path& file) {
    pt::ptree suites;
    auto& root = suites.add_child("testsuites", pt::ptree{});
    root.put("<xmlattr>.name", grade.name);
    for (const auto& lesson : grade.lessons) {
        pt::ptree suite;
        int failures = 0;
        double seconds = 0;
        for (const auto& test : lesson.cases) {
            pt::ptree testcase;
            testcase.put("<xmlattr>.classname", grade.name + "." + lesson.slug);
            testcase.put("<xmlattr>.name", test.name);
            testcase.put("<xmlattr>.time", test.seconds);
            if (!test.passed) {
                ++failures;
                auto& failure = testcase.add_child("failure", pt::ptree(test.output));
                failure.put("<xmlattr>.message", state_word(lesson.build) == "built" ? "test failed" : state_word(lesson.build));
            }
            seconds += test.seconds;
            suite.add_child("testcase", testcase);
        }
        suite.put("<xmlattr>.name", lesson.slug);
        suite.put("<xmlattr>.tests", lesson.cases.size());
        suite.put("<xmlattr>.failures", failures);
        suite.put("<xmlattr>.time", seconds);
        root.add_child("testsuite", suite);
    }
    auto out = open_for_writing(file);
    pt::write_xml(out, suites, pt::xml_writer_make_settings<std::string>(' ', 2));
}

void write_markdown_report(const SubmissionGrade& grade, const std::filesystem::path& file) {
    auto out = open_for_writing(file);
    out << "# ClusterKit grade: " << grade.name << "\n\n"
        << "**" << grade.score() << " / " << grade.max_score() << " points**, graded in " << seconds_text(grade.seconds)
        << " (building " << seconds_text(grade.build_seconds) << ", testing " << seconds_text(grade.test_seconds)
        << ").\n\n| lesson | points | build |\n| --- | --- | --- |\n";
    for (const auto& lesson : grade.lessons)
        out << "| " << lesson.slug << " | " << lesson.score() << " / " << lesson.max_score() << " | "
            << state_word(lesson.build) << " |\n";
    for (const auto& lesson : grade.lessons) {
        out << "\n## " << lesson.slug << ": " << lesson.title << "\n\n";
        if (lesson.build != BuildState::built) {
            out << "**" << state_word(lesson.build) << "**: every test of this lesson gets 0 points.\n\n```\n"
                << lesson.build_message << "\n```\n";
            continue;
        }
        for (const auto& test : lesson.cases) {
            out << "- " << (test.passed ? "pass" : "**FAIL**") << " (" << test.points << "/" << test.max_points
                << ") " << test.name << "\n";
            if (!test.passed) {
                out << "\n  ```\n";
                std::istringstream lines(test.output);
                for (std::string line; std::getline(lines, line);) out << "  " << line << "\n";
                out << "  ```\n\n";
            }
        }
    }
    out << "\n---\nSandbox: ";
    for (std::size_t i = 0; i < grade.sandbox.size(); ++i) out << (i ? "; " : "") << grade.sandbox[i];
    out << "\n";
}

void write_gradebook(const std::vector<SubmissionGrade>& grades, const std::filesystem::path& file) {
    auto csv = [](const std::string& field) {
        if (field.find_first_of(",\"\n") == std::string::npos) return field;
        std::string quoted = "\"";
        for (char c : field) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        return quoted + "\"";
    };
    auto out = open_for_writing(file);
    out << "submission,score,max_score";
    if (!grades.empty())
        for (const auto& lesson : grades.front().lessons) out << "," << lesson.slug;
    out << ",not_building,seconds\n";
    for (const auto& grade : grades) {
        out << csv(grade.name) << "," << grade.score() << "," << grade.max_score();
        std::string not_building;
        for (const auto& lesson : grade.lessons) {
            out << "," << lesson.score();
            if (lesson.build != BuildState::built) not_building += (not_building.empty() ? "" : " ") + lesson.slug.substr(0, 2);
        }
        out << "," << csv(not_building) << "," << static_cast<long>(std::lround(grade.seconds)) << "\n";
    }
}

}  // namespace clusterkit::kit
