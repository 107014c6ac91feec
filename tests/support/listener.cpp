// The kit's Catch2 event listener: each test case's outcome as data, in the record file that
// CLUSTERKIT_RESULT_FILE names (record.hpp). Catch2 2.13 and 3.x call the same events; the two differences
// (assertionEnded's return type, TestCaseStats::testInfo a value or a pointer) are handled here.
#define CLUSTERKIT_CATCH_LISTENER
#include "catch.hpp"

#include "listener.hpp"
#include "record.hpp"

#include <string>
#include <vector>

namespace clusterkit::testing {

namespace {

class ResultListener : public ListenerBase {
public:
    using ListenerBase::ListenerBase;

    void testCaseStarting(const Catch::TestCaseInfo& info) override {
        ListenerBase::testCaseStarting(info);
        name_ = info.name;
        sections_.clear();
        failed_ = false;
        record::case_started(name_);
    }

    // The first section is the test case itself; the ones inside it are its SECTION()s.
    void sectionStarting(const Catch::SectionInfo& info) override {
        ListenerBase::sectionStarting(info);
        sections_.push_back(info.name);
    }
    void sectionEnded(const Catch::SectionStats& stats) override {
        ListenerBase::sectionEnded(stats);
        if (!sections_.empty()) sections_.pop_back();
    }

#if CLUSTERKIT_CATCH_MAJOR == 3
    void assertionEnded(const Catch::AssertionStats& stats) override { record_assertion(stats); }
#else
    bool assertionEnded(const Catch::AssertionStats& stats) override {
        record_assertion(stats);
        return true;
    }
#endif

    void testCaseEnded(const Catch::TestCaseStats& stats) override {
        record::case_ended(name_, !failed_ && stats.totals.assertions.failed == 0);
        ListenerBase::testCaseEnded(stats);
    }

private:
    void record_assertion(const Catch::AssertionStats& stats) {
        const auto& result = stats.assertionResult;
        if (result.isOk()) return;
        failed_ = true;
        const auto where = result.getSourceInfo();
        record::Failure failure{.macro = std::string(result.getTestMacroName()),
                                .expression = result.hasExpression() ? result.getExpression() : std::string(),
                                .expansion = result.hasExpression() ? result.getExpandedExpression() : std::string(),
                                .message = std::string(result.getMessage()),
                                .file = where.file,
                                .line = static_cast<int>(where.line),
                                .sections = {},
                                .messages = {},
                                .ms = 0};
        if (sections_.size() > 1) failure.sections.assign(sections_.begin() + 1, sections_.end());
        std::vector<std::string> messages;
        for (const auto& message : stats.infoMessages) messages.push_back(message.message);
        record::add_failure(std::move(failure), messages);
    }

    std::string name_;
    std::vector<std::string> sections_;
    bool failed_ = false;
};

}  // namespace

CATCH_REGISTER_LISTENER(ResultListener)

bool result_listener_linked() { return true; }

}  // namespace clusterkit::testing
