// The answers of the kit's TODOs, line by line. See answers.hpp.
#include "answers.hpp"

#include "release.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <sstream>

namespace clusterkit::kit {

namespace {

constexpr std::size_t shortest_answer = 20;        // characters, trimmed
constexpr std::size_t long_answer = 40;            // a line this long answers on its own
constexpr int idiom_files = 2;                     // a line in this many source files of the kit is an idiom
constexpr std::uintmax_t largest_text = 1u << 20;  // bytes: larger files are not text a student reads

bool is_source(const std::string& file) {
    return file.ends_with(".cpp") || file.ends_with(".hpp") || file.ends_with(".h");
}

bool is_text(const fs::path& file, std::string& text) {
    if (!fs::is_regular_file(file) || fs::file_size(file) > largest_text) return false;
    text = read_file(file);
    return text.find('\0') == std::string::npos;
}

}  // namespace

std::string normalized(std::string_view line) {
    std::string out;
    for (char c : line) {
        const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
        if (space && (out.empty() || out.back() == ' ')) continue;
        out += space ? ' ' : c;
    }
    if (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

bool is_trivial(std::string_view line) {
    static const std::regex boilerplate(
        R"(#\s*include\s.*|(return|break|continue)\b[^;]{0,12};|\}?\s*else\b.*\{?|\}.*|namespace\b.*|using namespace\b.*|)"
        R"((const\s+)?[\w:<>]+\s+\w+(\s*=\s*[\w.:]+)?;)");
    if (line.size() < shortest_answer) return true;
    if (std::ranges::none_of(line, [](unsigned char c) { return std::isalnum(c); })) return true;
    return std::regex_match(line.begin(), line.end(), boilerplate);
}

AnswerLines answer_lines(const fs::path& root, const std::vector<std::string>& files) {
    // Given code: how many of the kit's own source files hold each line (a starter file counts as two: what
    // one lesson gives is given).
    std::map<std::string, int, std::less<>> given;
    for (const auto& file : files) {
        std::string text;
        if (left_out_of_release(file) || !is_source(file) || !is_text(root / file, text)) continue;
        std::set<std::string> lines;
        for (const auto& line : lines_of(text)) lines.insert(normalized(line));
        for (const auto& line : lines) given[line] += file.starts_with("starter/") ? idiom_files : 1;
    }
    AnswerLines answers;
    for (const auto& file : files) {
        std::string solution;
        if (!file.starts_with("solutions/") || !is_text(root / file, solution)) continue;
        const auto lines = lines_of(solution);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            auto text = normalized(lines[i]);
            const auto found = given.find(text);
            if (is_trivial(text) || (found != given.end() && found->second >= idiom_files)) continue;
            answers.emplace(std::move(text), file + ":" + std::to_string(i + 1));
        }
    }
    return answers;
}

std::vector<Leak> find_leaks(const fs::path& root, const std::vector<std::string>& files, const AnswerLines& answers) {
    std::vector<Leak> leaks;
    for (const auto& file : files) {
        std::string text;
        if (file.starts_with("solutions/") || !is_text(root / file, text)) continue;
        const auto lines = lines_of(text);
        std::vector<const AnswerLines::value_type*> found(lines.size() + 1, nullptr);  // one more: no run past the end
        for (std::size_t i = 0; i < lines.size(); ++i)
            if (const auto answer = answers.find(normalized(lines[i])); answer != answers.end()) found[i] = &*answer;
        for (std::size_t i = 0; i < lines.size(); ++i) {
            if (!found[i]) continue;
            const bool in_a_run = (i > 0 && found[i - 1]) || found[i + 1];
            if (in_a_run || found[i]->first.size() >= long_answer)
                leaks.push_back({file, static_cast<int>(i + 1), found[i]->first, found[i]->second});
        }
    }
    return leaks;
}

std::string describe(const Leak& leak) {
    return leak.file + ":" + std::to_string(leak.line) + ": `" + leak.text + "` answers " + leak.answer;
}

}  // namespace clusterkit::kit
