// No answer given away (tools/kit/answers.hpp): the answer lines of a tree, and finding them in the files a
// student would receive, on a small tree made here.
#include "catch.hpp"

#include "answers.hpp"

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace clusterkit::kit;

namespace {

// A kit checkout in a temporary folder, removed at the end.
class Tree {
public:
    Tree() : root_(fs::temp_directory_path() / ("clusterkit-test-answers-" + std::to_string(::getpid()))) {
        fs::remove_all(root_);
    }
    ~Tree() { fs::remove_all(root_); }
    void write(const std::string& file, const std::string& text) {
        fs::create_directories((root_ / file).parent_path());
        std::ofstream(root_ / file) << text;
        files_.push_back(file);
    }
    const fs::path& root() const { return root_; }
    const std::vector<std::string>& files() const { return files_; }

private:
    fs::path root_;
    std::vector<std::string> files_;
};

const char* const solution = "#include <unistd.h>\n"
                             "int reap_all() {\n"
                             "    while (::waitpid(-1, &status, 0) == -1 && errno == EINTR) {}\n"
                             "    return 0;\n"
                             "}\n";
const char* const starter = "#include <unistd.h>\n"
                            "int reap_all() {\n"
                            "    // TODO(lesson 01): wait for every worker\n"
                            "    return 0;\n"
                            "}\n";

}  // namespace

TEST_CASE("an answer line is a non-trivial line the solution has and the starter lacks", "[kit][answers]") {
    Tree tree;
    tree.write("solutions/01-x/main.cpp", solution);
    tree.write("starter/01-x/main.cpp", starter);
    const auto answers = answer_lines(tree.root(), tree.files());
    REQUIRE(answers.size() == 1);
    CHECK(answers.begin()->first == "while (::waitpid(-1, &status, 0) == -1 && errno == EINTR) {}");
    CHECK(answers.begin()->second == "solutions/01-x/main.cpp:3");
}

TEST_CASE("a lesson text that holds an answer line is found, whatever its indentation", "[kit][answers]") {
    Tree tree;
    tree.write("solutions/01-x/main.cpp", solution);
    tree.write("starter/01-x/main.cpp", starter);
    tree.write("lessons/01-x/README.md", "# Lesson\n\n```cpp\n  while (::waitpid(-1,  &status, 0) == -1 && errno == EINTR) {}\n```\n");
    tree.write("lessons/01-x/hints.md", "Call `waitpid(-1, ...)` in a loop, and again on EINTR.\n");
    const auto leaks = find_leaks(tree.root(), {"lessons/01-x/README.md", "lessons/01-x/hints.md", "starter/01-x/main.cpp"},
                                  answer_lines(tree.root(), tree.files()));
    REQUIRE(leaks.size() == 1);
    CHECK(leaks[0].file == "lessons/01-x/README.md");
    CHECK(leaks[0].line == 4);
    CHECK(describe(leaks[0]) == "lessons/01-x/README.md:4: `while (::waitpid(-1, &status, 0) == -1 && errno == EINTR) {}` "
                                "answers solutions/01-x/main.cpp:3");
}

TEST_CASE("short lines, lone braces, includes and short returns are too common to answer anything", "[kit][answers]") {
    CHECK(is_trivial("}"));
    CHECK(is_trivial("return 0;"));
    CHECK(is_trivial("return true;"));
    CHECK(is_trivial("#include <sys/prctl.h>"));
    CHECK(is_trivial("}  // namespace lesson03"));
    CHECK(is_trivial("} else {"));
    CHECK(is_trivial("----------------"));
    CHECK(is_trivial("boost::system::error_code error;"));
    CHECK(is_trivial("int raw_status = 0;"));
    CHECK_FALSE(is_trivial("return worker_count(values);"));
    CHECK_FALSE(is_trivial("recent_.push_back(now);"));
    CHECK(normalized("  a   b\tc  ") == "a b c");
}

TEST_CASE("a line that a starter gives, or that the kit's code uses twice, is not an answer", "[kit][answers]") {
    Tree tree;
    tree.write("solutions/01-x/main.cpp", "    report_online(online, workers);\n    reap_every_worker_in_order(workers);\n");
    tree.write("starter/01-x/main.cpp", "    // TODO(lesson 01)\n");
    tree.write("starter/02-y/main.cpp", "    report_online(online, workers);\n");
    const auto answers = answer_lines(tree.root(), tree.files());
    REQUIRE(answers.size() == 1);
    CHECK(answers.contains("reap_every_worker_in_order(workers);"));
}

TEST_CASE("two answer lines in a row are found, one short line alone is the shape of an API", "[kit][answers]") {
    Tree tree;
    tree.write("solutions/01-x/main.cpp", "const pid_t pid = ::fork();\nif (pid == -1) throw_it(\"fork\");\n");
    tree.write("starter/01-x/main.cpp", "// TODO(lesson 01)\n");
    tree.write("lessons/01-x/README.md", "const pid_t pid = ::fork();\n\nconst pid_t pid = ::fork();\nif (pid == -1) throw_it(\"fork\");\n");
    const auto leaks = find_leaks(tree.root(), {"lessons/01-x/README.md"}, answer_lines(tree.root(), tree.files()));
    REQUIRE(leaks.size() == 2);
    CHECK(leaks[0].line == 3);
    CHECK(leaks[1].line == 4);
}
