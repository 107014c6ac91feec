// Catch2's JUnit report (`testNN -r junit -o report.xml`), read back: one TestResult per test case.
//
// Catch2 2.13 writes one <testcase name="..."> per test case (per leaf section: "case/section"), with a
// <failure> or <error> child per failed assertion or exception, whose text is the assertion, the INFO()
// messages (the program's transcript, in this kit) and the file:line.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <vector>

namespace clusterkit::kit {

struct TestResult {
    std::string name;     // the Catch2 test case name, a sentence of the lesson's contract
    bool passed = false;
    std::string message;  // failure text: every <failure>/<error> of the test case, in order; empty if passed
    double seconds = 0;
};

// Thrown when the report is not a Catch2 JUnit report (a test binary that crashed leaves half a file).
class JunitError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::vector<TestResult> parse_junit(std::istream& xml);
std::vector<TestResult> parse_junit_file(const std::filesystem::path& file);

}  // namespace clusterkit::kit
