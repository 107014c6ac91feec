// Reading Catch2's JUnit report with Boost.PropertyTree (header-only).
#include "junit.hpp"

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <fstream>
#include <string>

namespace clusterkit::kit {
namespace pt = boost::property_tree;

namespace {

// The text of one <failure> or <error>: its message attribute when the body is empty.
std::string failure_text(const pt::ptree& failure) {
    std::string text = failure.get_value<std::string>();
    if (text.find_first_not_of(" \n\t") == std::string::npos) text = failure.get<std::string>("<xmlattr>.message", "");
    const auto first = text.find_first_not_of('\n');
    return first == std::string::npos ? std::string{} : text.substr(first);
}

TestResult read_testcase(const pt::ptree& testcase) {
    TestResult result;
    result.name = testcase.get<std::string>("<xmlattr>.name", "");
    result.seconds = testcase.get<double>("<xmlattr>.time", 0.0);
    result.passed = true;
    for (const auto& [tag, child] : testcase) {
        if (tag != "failure" && tag != "error") continue;
        result.passed = false;
        if (!result.message.empty() && result.message.back() != '\n') result.message += '\n';
        result.message += failure_text(child);
    }
    return result;
}

}  // namespace

std::vector<TestResult> parse_junit(std::istream& xml) {
    pt::ptree tree;
    try {
        pt::read_xml(xml, tree);
    } catch (const pt::xml_parser_error& error) {
        throw JunitError("not a JUnit report: " + std::string(error.what()));
    }
    const auto suites = tree.get_child_optional("testsuites");
    if (!suites) throw JunitError("not a JUnit report: no <testsuites> element");
    std::vector<TestResult> results;
    for (const auto& [tag, suite] : *suites) {
        if (tag != "testsuite") continue;
        for (const auto& [child_tag, testcase] : suite)
            if (child_tag == "testcase") results.push_back(read_testcase(testcase));
    }
    return results;
}

std::vector<TestResult> parse_junit_file(const std::filesystem::path& file) {
    std::ifstream xml(file);
    if (!xml) throw JunitError(file.string() + ": cannot be read");
    try {
        return parse_junit(xml);
    } catch (const JunitError& error) {
        throw JunitError(file.string() + ": " + error.what());
    }
}

}  // namespace clusterkit::kit
