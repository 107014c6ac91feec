// Where things are in a ClusterKit checkout. See repo.hpp.
#include "repo.hpp"

#include <clusterkit/errors.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace clusterkit::kit {
namespace json = boost::json;

namespace {

std::string trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

json::value parse_json_file(const fs::path& file) {
    json::error_code error;
    auto value = json::parse(read_file(file), error);
    if (error) throw std::runtime_error(file.string() + ": not valid JSON: " + error.message());
    return value;
}

std::string string_field(const json::object& object, std::string_view key, const fs::path& file) {
    const auto* value = object.if_contains(key);
    if (!value || !value->is_string())
        throw std::runtime_error(file.string() + ": an entry has no string \"" + std::string(key) + "\"");
    return std::string(value->as_string());
}

}  // namespace

std::string read_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file.string() + ": cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::vector<std::string> nonempty_lines(const std::string& text) {
    auto lines = lines_of(text);
    std::erase_if(lines, [](const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; });
    return lines;
}

fs::path kit_root() {
    const char* root = std::getenv("CLUSTERKIT_ROOT");
    return fs::path(root && *root ? root : CLUSTERKIT_SOURCE_DIR);
}

fs::path student_tree() {
    const char* tree = std::getenv("CLUSTERKIT_TREE");
    if (tree && *tree) return fs::absolute(tree);
    return kit_root() / "starter";
}

bool student_tree_is_a_copy() {
    const char* tree = std::getenv("CLUSTERKIT_TREE");
    return tree && *tree && fs::weakly_canonical(tree) != fs::weakly_canonical(kit_root() / "starter");
}

std::vector<Lesson> read_lessons(const fs::path& root) {
    const auto file = root / "lessons" / "lessons.json";
    const auto document = parse_json_file(file);
    const auto* list = document.is_object() ? document.as_object().if_contains("lessons") : nullptr;
    if (!list || !list->is_array()) throw std::runtime_error(file.string() + ": no \"lessons\" array");
    std::vector<Lesson> lessons;
    for (const auto& entry : list->as_array()) {
        if (!entry.is_object()) throw std::runtime_error(file.string() + ": a lesson entry is not an object");
        const auto& object = entry.as_object();
        Lesson lesson;
        lesson.slug = string_field(object, "slug", file);
        lesson.title = string_field(object, "title", file);
        if (const auto* node = object.if_contains("node"); node && node->is_string()) lesson.node = node->as_string();
        if (const auto* provides = object.if_contains("provides"); provides && provides->is_string())
            lesson.provides = provides->as_string();
        if (lesson.slug.size() < 4 || !std::isdigit(static_cast<unsigned char>(lesson.slug[0])) ||
            !std::isdigit(static_cast<unsigned char>(lesson.slug[1])) || lesson.slug[2] != '-')
            throw std::runtime_error(file.string() + ": '" + lesson.slug + "' is not a slug like 01-fork-per-cpu");
        lesson.number = lesson.slug.substr(0, 2);
        lessons.push_back(std::move(lesson));
    }
    return lessons;
}

const Lesson& find_lesson(const std::vector<Lesson>& lessons, std::string_view which) {
    std::string number(which);
    if (!number.empty() && std::all_of(number.begin(), number.end(), [](unsigned char c) { return std::isdigit(c); }))
        number = (number.size() == 1 ? "0" : "") + number;
    for (const auto& lesson : lessons)
        if (lesson.number == number || lesson.slug == which) return lesson;
    std::string range = lessons.empty() ? "there are none" : lessons.front().number + ".." + lessons.back().number;
    throw UsageError("there is no lesson '" + std::string(which) + "' (the lessons are " + range + ")");
}

const RubricEntry* Rubric::find(std::string_view test_name) const {
    for (const auto& entry : tests)
        if (entry.name == test_name) return &entry;
    return nullptr;
}

fs::path rubric_path(const fs::path& root, const Lesson& lesson) {
    return root / "tests" / lesson.slug / "rubric.json";
}

std::optional<Rubric> read_rubric(const fs::path& root, const Lesson& lesson) {
    const auto file = rubric_path(root, lesson);
    if (!fs::exists(file)) return std::nullopt;
    const auto document = parse_json_file(file);
    const auto* tests = document.is_object() ? document.as_object().if_contains("tests") : nullptr;
    if (!tests || !tests->is_array()) throw std::runtime_error(file.string() + ": no \"tests\" array");
    Rubric rubric;
    if (const auto* about = document.as_object().if_contains("about"); about && about->is_string())
        rubric.about = about->as_string();
    for (const auto& entry : tests->as_array()) {
        if (!entry.is_object()) throw std::runtime_error(file.string() + ": a test entry is not an object");
        const auto& object = entry.as_object();
        RubricEntry test;
        test.name = string_field(object, "name", file);
        test.section = string_field(object, "section", file);
        const auto* points = object.if_contains("points");
        if (!points || !points->is_int64() || points->as_int64() <= 0)
            throw std::runtime_error(file.string() + ": \"" + test.name + "\" has no positive integer \"points\"");
        test.points = static_cast<int>(points->as_int64());
        rubric.tests.push_back(std::move(test));
    }
    return rubric;
}

std::string github_anchor(std::string_view heading) {
    // GitHub: lower-case, drop everything but letters, digits, spaces, '-' and '_', spaces become '-'.
    std::string anchor;
    for (unsigned char c : trimmed(heading)) {
        if (std::isalnum(c) || c == '-' || c == '_') anchor += static_cast<char>(std::tolower(c));
        else if (c == ' ') anchor += '-';
        else if (c >= 0x80) anchor += static_cast<char>(c);  // non-ASCII letters are kept as they are
    }
    return anchor;
}

std::optional<int> heading_line(const fs::path& markdown, std::string_view heading) {
    std::ifstream in(markdown);
    int number = 0;
    bool in_code = false;
    for (std::string line; std::getline(in, line);) {
        ++number;
        if (line.starts_with("```")) in_code = !in_code;
        if (in_code || !line.starts_with('#')) continue;
        const auto text = line.find_first_not_of('#');
        if (text == std::string::npos) continue;
        if (trimmed(std::string_view(line).substr(text)) == trimmed(heading)) return number;
    }
    return std::nullopt;
}

}  // namespace clusterkit::kit
