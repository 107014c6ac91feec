// kit lint [--write]: the checks that keep what is written once from being copied by hand,
// and that keep answers out of what students get. `kit selftest` runs it first (so CI does).
//
//   answers  no file of a student release (lesson texts, hints, docs, lib/, tests) holds an answer line
//            (answers.hpp): a non-trivial line that a solution file has and its starter lacks.
//   lists    each block between `<!-- kit:begin NAME -->` and `<!-- kit:end NAME -->` in a Markdown file is
//            what its one source says (--write rewrites it):
//              lessons  README.md's lesson table, from lessons/lessons.json
//              tests    a lesson text's test list, from tests/NN-name/rubric.json (the test cases, in order)
//              events   a lesson text's event table, from the table in docs/event-lines.md (its rows whose
//                       `lessons` column names the lesson)
//   shape    each lesson text: a top summary before the first `##` (what you build, the files with TODOs
//            and how many, `./kit verify NN`), at most 1,200 words before "## Your task", a picture (.svg)
//            beside it that exists and that it shows, its `tests` and `events` blocks.
// Every problem is one line: file, rule, numbers. Nothing can be skipped.
#include "answers.hpp"
#include "args.hpp"
#include "commands.hpp"
#include "release.hpp"
#include "repo.hpp"

#include <clusterkit/errors.hpp>

#include <boost/json.hpp>

#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

namespace clusterkit::kit {
namespace json = boost::json;

namespace {

constexpr std::size_t max_words_before_task = 1200;

struct Problem {
    std::string where;  // "lessons/01-fork-per-cpu/README.md:12"
    std::string rule;   // "answers", "lists", "shape"
    std::string what;
};

std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) text += line + '\n';
    return text;
}

// The cells of a Markdown table row; `\|` is a pipe inside a cell and stays as it is.
std::vector<std::string> cells_of(const std::string& row) {
    std::vector<std::string> cells;
    std::string cell;
    for (std::size_t i = 0; i < row.size(); ++i) {
        if (row[i] == '|' && (i == 0 || row[i - 1] != '\\')) {
            cells.push_back(normalized(cell));
            cell.clear();
        } else {
            cell += row[i];
        }
    }
    if (!cells.empty()) cells.erase(cells.begin());  // before the first '|'
    return cells;
}

std::string row_of(const std::vector<std::string>& cells) {
    std::string row = "|";
    for (const auto& cell : cells) row += " " + cell + " |";
    return row;
}

// ---- the sources of the generated blocks ----

std::string lessons_table(const fs::path& root) {
    const auto file = root / "lessons" / "lessons.json";
    const auto document = json::parse(read_file(file));
    std::vector<std::string> lines{"| lesson | what it teaches | Node |", "| --- | --- | --- |"};
    for (const auto& entry : document.at("lessons").as_array()) {
        const auto& lesson = entry.as_object();
        for (const char* key : {"slug", "teaches", "node"})
            if (!lesson.if_contains(key) || !lesson.at(key).is_string())
                throw std::runtime_error(file.string() + ": a lesson has no string \"" + key + "\"");
        const std::string slug(lesson.at("slug").as_string());
        lines.push_back(row_of({"[" + slug + "](lessons/" + slug + "/README.md)", std::string(lesson.at("teaches").as_string()),
                                std::string(lesson.at("node").as_string())}));
    }
    return joined(lines);
}

std::string tests_list(const fs::path& root, const Lesson& lesson) {
    const auto rubric = read_rubric(root, lesson);
    if (!rubric) throw std::runtime_error(rubric_path(root, lesson).string() + " does not exist");
    std::vector<std::string> lines;
    for (const auto& test : rubric->tests) lines.push_back("- " + test.name);
    return joined(lines);
}

std::string events_table(const fs::path& root, const Lesson& lesson) {
    const auto file = root / "docs" / "event-lines.md";
    const auto lines = lines_of(read_file(file));
    std::vector<std::string> out;
    std::optional<std::size_t> lessons_column;
    for (const auto& line : lines) {
        if (!line.starts_with("|")) {
            if (lessons_column) break;  // the end of the table
            continue;
        }
        auto cells = cells_of(line);
        if (!lessons_column) {
            const auto found = std::ranges::find(cells, "lessons");
            if (cells.empty() || cells.front() != "event" || found == cells.end()) continue;
            lessons_column = static_cast<std::size_t>(found - cells.begin());
            cells.erase(cells.begin() + static_cast<long>(*lessons_column));
            out.push_back(row_of(cells));
            out.push_back(row_of(std::vector<std::string>(cells.size(), "---")));
            continue;
        }
        if (cells.size() <= *lessons_column || cells.front().starts_with("---")) continue;
        std::istringstream numbers(cells[*lessons_column]);
        bool printed = false;
        for (std::string number; numbers >> number;) printed = printed || number == lesson.number;
        cells.erase(cells.begin() + static_cast<long>(*lessons_column));
        if (printed) out.push_back(row_of(cells));
    }
    if (!lessons_column) throw std::runtime_error(file.string() + ": no table with the columns `event` ... `lessons`");
    return joined(out);
}

// ---- the blocks of a Markdown file ----

struct Block {
    std::string name;
    std::size_t begin = 0;  // index of the begin marker line
    std::size_t end = 0;    // index of the end marker line
};

const std::regex marker(R"(^<!-- kit:(begin|end) ([a-z]+) -->$)");

std::vector<Block> blocks_of(const std::vector<std::string>& lines, const std::string& file, std::vector<Problem>& problems) {
    std::vector<Block> blocks;
    std::optional<Block> open;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::smatch found;
        if (!std::regex_match(lines[i], found, marker)) continue;
        const auto where = file + ":" + std::to_string(i + 1);
        if (found[1] == "begin") {
            if (open) problems.push_back({where, "lists", "kit:begin " + found[2].str() + " inside block " + open->name});
            open = Block{found[2], i, 0};
        } else if (!open || open->name != found[2]) {
            problems.push_back({where, "lists", "kit:end " + found[2].str() + " without its kit:begin"});
        } else {
            open->end = i;
            blocks.push_back(*open);
            open.reset();
        }
    }
    if (open) problems.push_back({file + ":" + std::to_string(open->begin + 1), "lists", "kit:begin " + open->name + " has no kit:end"});
    return blocks;
}

// The lesson whose text `file` is ("lessons/NN-name/README.md"), if any.
const Lesson* lesson_of(const std::string& file, const std::vector<Lesson>& lessons) {
    for (const auto& lesson : lessons)
        if (file == "lessons/" + lesson.slug + "/README.md") return &lesson;
    return nullptr;
}

// What a block must hold; throws std::runtime_error when its source cannot tell.
std::string wanted(const fs::path& root, const Block& block, const Lesson* lesson) {
    if (block.name == "lessons") return lessons_table(root);
    if (block.name != "tests" && block.name != "events") throw std::runtime_error("no block is called `" + block.name + "`");
    if (!lesson) throw std::runtime_error("a `" + block.name + "` block belongs in a lesson text");
    return block.name == "tests" ? tests_list(root, *lesson) : events_table(root, *lesson);
}

// Checks (or, with `write`, rewrites) the blocks of one Markdown file. Returns the names of its blocks.
std::vector<std::string> check_blocks(const fs::path& root, const std::string& file, const std::vector<Lesson>& lessons,
                                      bool write, std::vector<Problem>& problems) {
    auto lines = lines_of(read_file(root / file));
    const auto blocks = blocks_of(lines, file, problems);
    std::vector<std::string> names;
    std::vector<std::string> rewritten;
    std::size_t copied = 0;
    for (const auto& block : blocks) {
        names.push_back(block.name);
        const std::vector<std::string> has(lines.begin() + static_cast<long>(block.begin) + 1,
                                           lines.begin() + static_cast<long>(block.end));
        std::vector<std::string> wants;
        try {
            wants = lines_of(wanted(root, block, lesson_of(file, lessons)));
        } catch (const std::exception& error) {
            problems.push_back({file + ":" + std::to_string(block.begin + 1), "lists", error.what()});
            wants = has;
        }
        rewritten.insert(rewritten.end(), lines.begin() + static_cast<long>(copied), lines.begin() + static_cast<long>(block.begin) + 1);
        rewritten.insert(rewritten.end(), wants.begin(), wants.end());
        copied = block.end;
        if (has == wants || write) continue;
        std::size_t differs = 0;
        while (differs < has.size() && differs < wants.size() && has[differs] == wants[differs]) ++differs;
        const auto line = block.begin + 2 + differs;
        problems.push_back({file + ":" + std::to_string(line), "lists",
                            "block `" + block.name + "` is not what its source says: line " + std::to_string(differs + 1) +
                                " is `" + (differs < has.size() ? has[differs] : "(nothing)") + "`, wants `" +
                                (differs < wants.size() ? wants[differs] : "(nothing)") + "` (./kit lint --write rewrites it)"});
    }
    rewritten.insert(rewritten.end(), lines.begin() + static_cast<long>(copied), lines.end());
    if (write && rewritten != lines) {
        std::ofstream(root / file, std::ios::trunc) << joined(rewritten);
        std::cout << "kit lint: rewrote the blocks of " << file << '\n';
    }
    return names;
}

// ---- the shape of a lesson text ----

const char* const small_numbers[] = {"zero", "one", "two", "three", "four", "five", "six",
                                     "seven", "eight", "nine", "ten", "eleven", "twelve"};

// The starter files of a lesson with TODOs, and how many TODOs they hold.
std::map<std::string, int> todos_of(const fs::path& root, const Lesson& lesson) {
    std::map<std::string, int> todos;
    const auto folder = root / "starter" / lesson.slug;
    if (!fs::is_directory(folder)) return todos;
    for (const auto& entry : fs::directory_iterator(folder)) {
        const std::string mark = "// TODO(lesson " + lesson.number + ")";
        int count = 0;
        for (const auto& line : lines_of(read_file(entry.path()))) count += normalized(line).starts_with(mark) ? 1 : 0;
        if (count > 0) todos[entry.path().filename().string()] = count;
    }
    return todos;
}

std::size_t words_in(const std::vector<std::string>& lines) {
    std::size_t words = 0;
    for (const auto& line : lines) {
        std::istringstream in(line);
        for (std::string word; in >> word;) ++words;
    }
    return words;
}

void check_shape(const fs::path& root, const Lesson& lesson, const std::vector<std::string>& block_names,
                 std::vector<Problem>& problems) {
    const auto file = "lessons/" + lesson.slug + "/README.md";
    const auto lines = lines_of(read_file(root / file));
    auto problem = [&](const std::string& what) { problems.push_back({file, "shape", what}); };

    // The top summary: the lines after the title, before the first "##".
    std::size_t first_section = 0;
    while (first_section < lines.size() && !lines[first_section].starts_with("## ")) ++first_section;
    const std::string summary =
        first_section > 1 ? joined(std::vector<std::string>(lines.begin() + 1, lines.begin() + static_cast<long>(first_section)))
                          : std::string();
    const auto todos = todos_of(root, lesson);
    int total = 0;
    for (const auto& [name, count] : todos) {
        total += count;
        if (summary.find(name) == std::string::npos) problem("the top summary does not name " + name + " (it has TODOs)");
    }
    const bool count_said = summary.find(std::to_string(total) + " TODO") != std::string::npos ||
                            (total <= 12 && summary.find(std::string(small_numbers[total]) + " TODO") != std::string::npos);
    if (!count_said) problem("the top summary does not say how many TODOs there are (" + std::to_string(total) + ")");
    if (summary.find("./kit verify " + lesson.number) == std::string::npos)
        problem("the top summary does not say `./kit verify " + lesson.number + "`");

    const auto task = std::ranges::find(lines, "## Your task");
    if (task == lines.end()) {
        problem("no \"## Your task\" heading");
    } else if (const auto words = words_in(std::vector<std::string>(lines.begin(), task)); words > max_words_before_task) {
        problem(std::to_string(words) + " words before \"Your task\" (at most " + std::to_string(max_words_before_task) + ")");
    }

    static const std::regex picture(R"(([A-Za-z0-9_./-]+\.svg))");
    int pictures = 0;
    for (const auto& line : lines)
        for (auto found = std::sregex_iterator(line.begin(), line.end(), picture); found != std::sregex_iterator(); ++found) {
            const auto path = root / "lessons" / lesson.slug / (*found)[1].str();
            if (fs::exists(path)) ++pictures;
            else problem("shows " + (*found)[1].str() + ", which does not exist beside it");
        }
    if (pictures == 0) problem("shows no picture (an .svg file beside the text)");
    for (const char* name : {"tests", "events"})
        if (std::ranges::find(block_names, name) == block_names.end())
            problem(std::string("has no `") + name + "` block (<!-- kit:begin " + name + " --> ... <!-- kit:end " + name + " -->)");
}

}  // namespace

int command_lint(const Args& args) {
    po::options_description options("options");
    options.add_options()("write", "rewrite every generated block from its source");
    const auto values = parse_args(args, "lint [--write]", options);
    const bool write = values.count("write") > 0;
    const auto root = kit_root();
    const auto lessons = read_lessons(root);
    const auto files = release_files(root);

    std::vector<Problem> problems;
    for (const auto& leak : find_leaks(root, files, answer_lines(root, kit_files(root))))
        problems.push_back({leak.file + ":" + std::to_string(leak.line), "answers",
                            "`" + leak.text + "` answers " + leak.answer});

    std::map<std::string, std::vector<std::string>> blocks;
    for (const auto& file : files)
        if (file.ends_with(".md")) blocks[file] = check_blocks(root, file, lessons, write, problems);
    if (std::ranges::find(blocks["README.md"], "lessons") == blocks["README.md"].end())
        problems.push_back({"README.md", "lists", "has no `lessons` block (the lesson table)"});

    for (const auto& lesson : lessons) {
        if (!fs::exists(lesson.text(root))) {
            problems.push_back({"lessons/" + lesson.slug + "/README.md", "shape", "the lesson text does not exist"});
            continue;
        }
        check_shape(root, lesson, blocks["lessons/" + lesson.slug + "/README.md"], problems);
    }

    for (const auto& problem : problems) std::cout << "kit lint: " << problem.where << ": " << problem.rule << ": " << problem.what << '\n';
    std::cout << "kit lint: " << files.size() << " files of the release checked for answer lines, " << blocks.size()
              << " Markdown files for generated blocks, " << lessons.size() << " lesson texts for their shape: "
              << (problems.empty() ? "OK" : std::to_string(problems.size()) + " problem(s)");
    std::cout << '\n';
    return problems.empty() ? exit_status::ok : exit_status::failure;
}

}  // namespace clusterkit::kit
